"""Writes to the registry: registering people."""

from __future__ import annotations

import re
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from vaxops.access.scope import can, require, restrict
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.regions.models import Division
from vaxops.registry.idnumber import IdNumberError, ResidentId, parse_id_number
from vaxops.registry.models import Deferral, Person, PriorityGroup
from vaxops.registry.names import NameRefused, normalise_name

# Translated texts for the reasons an ID number is refused (codes from registry.idnumber).
ID_REASON_MESSAGES = {
    "id_wrong_length": _("it must have 18 characters (or 15 digits in the old form); it has {length}."),
    "id_bad_characters": _("only digits are allowed, and X as the last character (position {position})."),
    "id_bad_check_character": _("the last character should be {expected}, not {actual}: a digit is mistyped."),
    "id_bad_division_code": _("the division code {division_code} does not exist."),
    "id_impossible_date": _("the birth date {birth_digits} is not a real date."),
    "id_future_birth_date": _("the birth date {birth_date} is in the future."),
    "id_birth_year_before_1900": _("the birth year {year} is before 1900: the year is mistyped."),
    # A warning, not a refusal (registry.idnumber.WARNINGS): the number is accepted.
    "id_unknown_province_code": _(
        "the division code {division_code} is in no edition of the national division codes: "
        "check the number against the card."
    ),
}

# ASCII digits only: \d would also accept Arabic-Indic, full-width and other Unicode digits.
PHONE_RE = re.compile(r"1[0-9]{10}")

# Why a name is refused (codes from registry.names), shown after the rule in invalid_name.
NAME_REASON_MESSAGES = {
    "empty": _("Enter the person's name."),
    "too_long": _("The name is longer than 64 characters."),
    "bad_start": _("A name begins with a letter."),
    "bad_character": _("Character {character} (position {position}) is not allowed in a name."),
}


def validate_name(raw: str) -> str:
    """The name as stored (``registry.names``) or ``invalid_name`` with the reason in ``detail``."""
    try:
        return normalise_name(raw)
    except NameRefused as exc:
        # position counts from 1, as a person reads it.
        position = None if exc.position is None else exc.position + 1
        detail = {"reason": exc.reason, "position": position, "character": exc.character}
        reason = str(NAME_REASON_MESSAGES[exc.reason]).format(**detail)
        raise VaxopsError("invalid_name", {**detail, "reason_message": reason}) from None


def validate_phone(raw: str) -> str:
    """The phone number (11 ASCII digits starting with 1), ``""`` for none, or ``invalid_phone``."""
    phone = (raw or "").strip()
    if phone and not PHONE_RE.fullmatch(phone):
        raise VaxopsError("invalid_phone", {"phone": phone[:20]})
    return phone


def validate_priority_groups(codes: list[str] | None) -> list[str]:
    """Known ``PriorityGroup`` codes in the order given (duplicates dropped), or ``unknown_priority_group``.

    Counters and dose records store the first code in a 40-character column, so an unknown or
    over-long code must never reach a person row.
    """
    wanted = list(dict.fromkeys(codes or []))
    if not wanted:
        return []
    known = set(PriorityGroup.objects.filter(code__in=wanted).values_list("code", flat=True))
    for code in wanted:
        if code not in known:
            raise VaxopsError("unknown_priority_group", {
                "priority_group": code[:40], "allowed": list(PriorityGroup.objects.values_list("code", flat=True)),
            })
    return wanted


def validate_id_number(raw: str, *, today: Any = None) -> ResidentId:
    """Parse an ID number or raise ``invalid_id_number`` with the precise reason in ``detail``
    (``today``: the campaign's date now, unless the caller has read it already)."""
    try:
        return parse_id_number(raw or "", today=today or timezone.localdate())
    except IdNumberError as exc:
        reason = str(ID_REASON_MESSAGES[exc.code]).format(**exc.detail)
        raise VaxopsError(
            "invalid_id_number", {"reason": exc.code, "reason_message": reason, **exc.detail}
        ) from None


def person_as_dict(person: Person) -> dict[str, Any]:
    return {
        "id_number_masked": person.id_number_masked,
        "name": person.name,
        "phone": person.phone,
        "home_division": person.home_division.code if person.home_division_id else None,
        "priority_groups": person.priority_groups,
        "status": person.status,
    }


def _site_divisions(acting_user: Any) -> models.QuerySet[Division]:
    """The divisions of the sites where the user records doses (site staff), else none."""
    from vaxops.sites.models import Site

    sites = restrict(Site.objects.all(), acting_user, "dose.add")
    return Division.objects.filter(pk__in=sites.values("division_id"))


def register_person(
    *,
    id_number: str,
    name: str,
    phone: str = "",
    division_code: str | None = None,
    priority_groups: list[str] | None = None,
    acting_user: Any,
    source: str,
) -> Person:
    """Register a resident. Birth date and sex come from the ID number.

    A batch of one of ``registry.batch.register_people`` (the one write path for people):
    the same rules and errors; an ID number already registered is ``person_exists`` (in the
    user's reach) or ``person_registered_elsewhere``, whatever its content. Guarantees: one
    person per ID number (the unique index decides under concurrency, and the loser gets
    ``person_exists``); the person row and its audit event commit together.
    """
    from vaxops.registry.batch import PersonItem, register_people

    item = PersonItem(
        id_number=id_number, name=name, phone=phone, division_code=division_code,
        priority_groups=tuple(priority_groups or ()),
    )
    (outcome,) = register_people([item], acting_user=acting_user, source=source)
    if outcome.status == "already_present":
        raise VaxopsError("person_exists", {"id": outcome.person.pk})
    if outcome.error is not None:
        raise outcome.error
    return outcome.person


def defer_person(
    *,
    person_id: int,
    code: str,
    since: Any,
    until: Any = None,
    note: str = "",
    acting_user: Any,
    source: str,
) -> Deferral:
    """Record a contraindication: no dose until ``until`` (inclusive), or until lifted.

    Site staff defer whoever is in front of them; others only residents of their area.
    """
    with transaction.atomic(durable=True):
        return defer_in_transaction(
            person_id=person_id, code=code, since=since, until=until, note=note, acting_user=acting_user,
            source=source,
        )


def defer_in_transaction(
    *,
    person_id: int,
    code: str,
    since: Any,
    until: Any = None,
    note: str = "",
    acting_user: Any,
    source: str,
) -> Deferral:
    """``defer_person``'s checks and writes inside the caller's transaction (the visit's
    screening defers a person and ends the visit in one transaction). Locks the person row."""
    from vaxops.access.scope import get_scoped

    require(acting_user, "person.add")
    if code not in Deferral.Reason.values:
        raise VaxopsError("invalid_request", {"field": "code", "allowed": list(Deferral.Reason.values)})
    if until is not None and until < since:
        raise VaxopsError("invalid_request", {"field": "until", "reason": "before since"})
    action = "person.vaccinate" if can(acting_user, "person.vaccinate") else "person.add"
    person = get_scoped(
        Person.objects.select_for_update(), acting_user, action,
        not_found="person_not_found", detail={"person_id": person_id}, pk=person_id,
    )
    deferral = Deferral.objects.create(person=person, code=code, since=since, until=until, note=note)
    from vaxops.outreach.duetable import refresh

    refresh([person.pk])  # off the work lists until the deferral ends (for good if it has no end)
    audit(
        "person.defer", deferral, actor=acting_user, source=source, county_code=person.county_code,
        after={"person": person.pk, "code": code, "since": str(since), "until": str(until), "note": note},
    )
    return deferral
