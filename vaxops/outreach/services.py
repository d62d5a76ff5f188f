"""The outreach writes: a contact attempt and what its outcome does (docs/outreach.md)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from vaxops.access.scope import get_scoped, require
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.outreach import duetable
from vaxops.outreach.models import ContactAttempt
from vaxops.outreach.outcomes import CHANNELS, CONCERNS, OUTCOMES, PLACES
from vaxops.registry.models import Deferral, Person


def _choice(field: str, value: str, allowed: dict) -> str:
    if value not in allowed:
        raise VaxopsError("outreach_value_invalid", {"field": field, "value": str(value)[:40],
                                                     "allowed": ", ".join(allowed)})
    return value


def _check(*, channel: str, outcome: str, until: dt.date | None, concern: str, place: str, reason: str,
           session_id: int | None, duplicate_of: int | None, today: dt.date) -> None:
    """The request's own rules, before anything is read or written."""
    if outcome not in OUTCOMES:
        raise VaxopsError("unknown_outcome", {"outcome": str(outcome)[:40], "allowed": ", ".join(OUTCOMES)})
    _choice("channel", channel, CHANNELS)
    spec = OUTCOMES[outcome]
    given = {"until": until, "concern": concern, "place": place, "reason": reason, "session_id": session_id,
             "duplicate_of": duplicate_of}
    for field in spec.needs:
        if given[field] in (None, ""):
            raise VaxopsError("outreach_field_required", {"field": field, "outcome": outcome})
    if until is not None and until < today:
        raise VaxopsError("until_in_past", {"until": until.isoformat(), "today": today.isoformat()})
    if concern:
        _choice("concern", concern, CONCERNS)
    if place:
        _choice("place", place, PLACES)
    if reason:
        _choice("reason", reason, dict.fromkeys(Deferral.Reason.values))


def _content(c: ContactAttempt) -> tuple:
    return (c.person_id, c.channel, c.outcome, c.until, c.note, c.session_id, c.concern, c.place, c.reason,
            c.duplicate_of_id)


def record_contact(
    *,
    client_uuid: uuid.UUID | str,
    person_id: int,
    channel: str,
    outcome: str,
    acting_user: Any,
    source: str,
    at: dt.datetime | None = None,
    until: dt.date | None = None,
    note: str = "",
    session_id: int | None = None,
    concern: str = "",
    place: str = "",
    reason: str = "",
    duplicate_of: int | None = None,
) -> tuple[ContactAttempt, bool]:
    """Record one contact attempt with a resident of the user's area; ``(attempt, created)``.

    Idempotent by ``client_uuid``: a retry with the same content returns the first attempt
    (``created`` False), other content is ``contact_conflict``. In one durable transaction
    with the person row locked: the attempt, the outcome's effect (a hold until ``until``; a
    person status service of ``registry.status`` for contraindicated, moved out, deceased,
    duplicate), the person's due row and the ``outreach.contact`` audit event. ``at``: when the
    attempt was made (default now; the demo's week passes it). Refused: nothing written.
    """
    from vaxops.campaign.services import TZ
    from vaxops.registry import status

    require(acting_user, "outreach.record")
    now = timezone.now()
    at = at or now
    if at > now + dt.timedelta(minutes=5):
        raise VaxopsError("contact_in_future", {"at": at.isoformat()})
    today = at.astimezone(TZ).date()
    key = uuid.UUID(str(client_uuid))
    _check(channel=channel, outcome=outcome, until=until, concern=concern, place=place, reason=reason,
           session_id=session_id, duplicate_of=duplicate_of, today=today)
    note = (note or "").strip()[:500]
    spec = OUTCOMES[outcome]
    wanted = (person_id, channel, outcome, until, note, session_id, concern, place, reason, duplicate_of)
    try:
        with transaction.atomic(durable=True):
            existing = ContactAttempt.objects.filter(client_uuid=key).first()
            if existing is not None:
                if _content(existing) != wanted:
                    raise VaxopsError("contact_conflict", {"id": existing.pk})
                get_scoped(Person.objects.all(), acting_user, "outreach.record", not_found="person_not_found",
                           detail={"person_id": person_id}, pk=person_id)
                return existing, False
            person = get_scoped(Person.objects.select_for_update().select_related("home_division"), acting_user,
                                "outreach.record", not_found="person_not_found", detail={"person_id": person_id},
                                pk=person_id)
            if session_id is not None:
                from vaxops.sites.models import Session

                if not Session.objects.filter(pk=session_id).exists():
                    raise VaxopsError("session_not_found", {"session_id": session_id})
            if duplicate_of is not None:
                get_scoped(Person.objects.all(), acting_user, "person.merge", not_found="person_not_found",
                           detail={"person_id": duplicate_of}, pk=duplicate_of)
            attempt = ContactAttempt.objects.create(
                client_uuid=key, person=person, home_path=person.home_division.path,
                county_code=person.county_code, worker=acting_user if getattr(acting_user, "pk", None) else None,
                channel=channel, outcome=outcome, at=at, until=until if spec.hold else None, place=place,
                concern=concern, reason=reason, session_id=session_id, duplicate_of_id=duplicate_of, note=note,
            )
            if spec.status == "contraindicated":
                status.contraindicate_in_transaction(person_id=person.pk, code=reason, acting_user=acting_user,
                                                     source=source, note=note, since=today)
            elif spec.status in ("moved_out", "deceased"):
                status.set_status_in_transaction(person_id=person.pk, status=spec.status, acting_user=acting_user,
                                                 source=source, note=note)
            elif spec.status == "duplicate":
                status.merge_in_transaction(keep_id=duplicate_of, duplicate_id=person.pk, acting_user=acting_user,
                                            source=source)
            duetable.refresh([person.pk])
            audit("outreach.contact", attempt, actor=acting_user, source=source, county_code=person.county_code,
                  after={"person": person.pk, "channel": channel, "outcome": outcome, "at": at.isoformat(),
                         "until": until.isoformat() if until else None, "session": session_id,
                         "concern": concern, "place": place, "reason": reason, "duplicate_of": duplicate_of,
                         "note": note})
            return attempt, True
    except IntegrityError:
        # A racing retry with the same client_uuid committed first: answer as a retry.
        existing = ContactAttempt.objects.filter(client_uuid=key).first()
        if existing is None:
            raise
        if _content(existing) != wanted:
            raise VaxopsError("contact_conflict", {"id": existing.pk}) from None
        return existing, False
