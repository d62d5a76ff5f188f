"""Person status services: moved out, deceased, a duplicate record merged, a permanent
contraindication. Each is one durable transaction with its audit event (the ``*_in_transaction``
forms run inside a caller's, e.g. a contact attempt's), and each takes the person off the work
lists (``outreach.duetable``) and stops their due-dose reminders.

Out of the "应种" denominator: ``status`` moved_out, deceased or merged, or a ``Deferral`` with
no end that is not lifted (a permanent contraindication).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from vaxops.access.scope import get_scoped, require
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.registry.models import Deferral, Person, PersonStatus

#: dose numbers whose reminders are stopped when a person leaves the lists
REMINDER_DOSES = range(1, 6)


def _stop_reminders(person_ids: list[int]) -> None:
    from vaxops.outbox.services import suppress

    suppress([f"{kind}:{pk}:{n}" for pk in person_ids for kind in ("dose-due", "dose-overdue")
              for n in REMINDER_DOSES])


def _locked(person_id: int, acting_user: Any, action: str) -> Person:
    return get_scoped(Person.objects.select_for_update(), acting_user, action, not_found="person_not_found",
                      detail={"person_id": person_id}, pk=person_id)


def set_status_in_transaction(*, person_id: int, status: str, acting_user: Any, source: str,
                              note: str = "") -> Person:
    """Record that a resident moved out or died (inside the caller's transaction)."""
    require(acting_user, "person.status")
    if status not in (PersonStatus.MOVED_OUT, PersonStatus.DECEASED):
        raise VaxopsError("invalid_request", {"field": "status", "allowed": [PersonStatus.MOVED_OUT,
                                                                            PersonStatus.DECEASED]})
    person = _locked(person_id, acting_user, "person.status")
    if person.status != PersonStatus.ACTIVE:
        raise VaxopsError("person_inactive", {"status": str(PersonStatus(person.status).label)})
    Person.objects.filter(pk=person.pk).update(status=status)
    before, person.status = person.status, status
    from vaxops.outreach.duetable import refresh

    refresh([person.pk])
    _stop_reminders([person.pk])
    audit("person.status", person, actor=acting_user, source=source, county_code=person.county_code,
          before={"status": before}, after={"status": status, "note": note})
    return person


def set_status(*, person_id: int, status: str, acting_user: Any, source: str, note: str = "") -> Person:
    """``set_status_in_transaction`` in a durable transaction of its own."""
    with transaction.atomic(durable=True):
        return set_status_in_transaction(person_id=person_id, status=status, acting_user=acting_user,
                                         source=source, note=note)


def contraindicate_in_transaction(*, person_id: int, code: str, acting_user: Any, source: str, note: str = "",
                                  since: dt.date | None = None) -> Deferral:
    """A permanent contraindication: a ``Deferral`` with no end (``registry.services``), which
    takes the person out of the denominator and off the lists."""
    from vaxops.registry.services import defer_in_transaction

    deferral = defer_in_transaction(person_id=person_id, code=code, since=since or timezone.localdate(),
                                    until=None, note=note, acting_user=acting_user, source=source)
    _stop_reminders([person_id])
    return deferral


def merge_in_transaction(*, keep_id: int, duplicate_id: int, acting_user: Any, source: str) -> Person:
    """Merge the duplicate record ``duplicate_id`` into ``keep_id`` (both in the user's area).

    Every dose of the duplicate moves to the kept person, none is deleted; a dose number the
    kept person already has (the same dose entered twice) moves voided, with its counter
    reversed, so nobody is counted twice. Open deferrals move too. The duplicate becomes
    ``merged`` (``merged_into``), out of the lists and the denominator.
    """
    from vaxops.campaign.services import bump_counter
    from vaxops.outreach.duetable import refresh
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    require(acting_user, "person.merge")
    if keep_id == duplicate_id:
        raise VaxopsError("merge_same_person", {"person_id": keep_id})
    first, second = sorted((keep_id, duplicate_id))
    locked = {pk: _locked(pk, acting_user, "person.merge") for pk in (first, second)}
    keep, dup = locked[keep_id], locked[duplicate_id]
    for p in (keep, dup):
        if p.status != PersonStatus.ACTIVE:
            raise VaxopsError("person_inactive", {"status": str(PersonStatus(p.status).label)})
    taken = set(DoseRecord.objects.filter(person=keep, status=DoseStatus.VALID).values_list("series", "dose_number"))
    voided, moved = [], []
    now = timezone.now()
    doses = (DoseRecord.objects.select_for_update(of=("self",)).filter(person=dup)
             .select_related("division", "residence_division").order_by("administered_at", "pk"))
    for dose in doses:
        if dose.status == DoseStatus.VALID and (dose.series, dose.dose_number) in taken:
            dose.status, dose.void_reason, dose.voided_at = DoseStatus.VOIDED, f"duplicate of person {keep.pk}", now
            dose.voided_by = acting_user if getattr(acting_user, "pk", None) else None
            dose.save(update_fields=["status", "void_reason", "voided_at", "voided_by"])
            bump_counter(dose, -1, path=dose.division.path,
                         residence_path=dose.residence_division.path if dose.residence_division_id else None)
            voided.append(dose.pk)
        elif dose.status == DoseStatus.VALID:
            taken.add((dose.series, dose.dose_number))
        moved.append(dose.pk)
    DoseRecord.objects.filter(pk__in=moved).update(person=keep)
    Deferral.objects.filter(person=dup, lifted_at__isnull=True).update(person=keep)
    Person.objects.filter(pk=dup.pk).update(status=PersonStatus.MERGED, merged_into=keep)
    dup.status, dup.merged_into = PersonStatus.MERGED, keep
    refresh([keep.pk, dup.pk])
    _stop_reminders([dup.pk])
    audit("person.merge", dup, actor=acting_user, source=source, county_code=dup.county_code,
          before={"status": PersonStatus.ACTIVE}, after={"merged_into": keep.pk, "doses_moved": moved,
                                                        "doses_voided": voided})
    return keep


def merge_duplicate(*, keep_id: int, duplicate_id: int, acting_user: Any, source: str) -> Person:
    """``merge_in_transaction`` in a durable transaction of its own."""
    with transaction.atomic(durable=True):
        return merge_in_transaction(keep_id=keep_id, duplicate_id=duplicate_id, acting_user=acting_user,
                                    source=source)


def lift_deferral(*, deferral_id: int, reason: str, acting_user: Any, source: str,
                  person_id: int | None = None) -> Deferral:
    """Lift an open deferral: a permanent contraindication recorded in error or that no longer
    holds, or a temporary one that ended early. The person comes back onto the work lists and
    into the "应种" denominator from now; the deferral stays on record with who lifted it, when
    and the written reason. One durable transaction with the person row locked and the
    ``person.lift_deferral`` audit event. ``person_id``: the person the caller means (a deferral
    of anyone else is not found). Refused: nothing written."""
    from vaxops.outreach.duetable import refresh

    require(acting_user, "person.lift_deferral")
    reason = (reason or "").strip()
    if not reason:
        raise VaxopsError("lift_reason_required")
    with transaction.atomic(durable=True):
        # Outside the user's area a deferral is "not found", like a missing one.
        detail = {"deferral_id": deferral_id}
        owner = Deferral.objects.filter(pk=deferral_id).values_list("person_id", flat=True).first()
        if owner is None or (person_id is not None and owner != person_id):
            raise VaxopsError("deferral_not_found", detail)
        person = get_scoped(Person.objects.select_for_update(), acting_user, "person.lift_deferral",
                            not_found="deferral_not_found", detail=detail, pk=owner)
        deferral = Deferral.objects.select_for_update().get(pk=deferral_id)
        if deferral.lifted_at is not None:
            raise VaxopsError("deferral_lifted", {"lifted_at": timezone.localtime(deferral.lifted_at).strftime(
                "%Y-%m-%d %H:%M")})
        deferral.lifted_at = timezone.now()
        deferral.lifted_by = acting_user if getattr(acting_user, "pk", None) else None
        deferral.lift_reason = reason[:500]
        deferral.save(update_fields=["lifted_at", "lifted_by", "lift_reason"])
        refresh([person.pk])
        audit("person.lift_deferral", deferral, actor=acting_user, source=source, county_code=person.county_code,
              before={"lifted_at": None},
              after={"person": person.pk, "code": deferral.code, "until": str(deferral.until),
                     "lifted_at": deferral.lifted_at.isoformat(), "reason": deferral.lift_reason})
        return deferral
