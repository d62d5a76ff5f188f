"""The medical-assurance gate: what a session still lacks before it may open (docs/staff.md).

``missing_items(session)`` lists the checklist items not yet satisfied (stable codes, in
checklist order); ``missing_for(sessions)`` does the same for many sessions in a fixed number
of statements; ``exception_for(session)`` is the county command's written exception, if any.
The sessions service (``vaxops.sites.sessions.open_session``) asks these inside its
transaction. ``record_readiness`` and ``grant_exception`` are the writers.

The state is computed whenever it is asked, from the submitted values (``Readiness``), the
session's date, site, products and planned doses, and its roster: a qualification that expires
or a doctor taken off the roster changes the answer at once, nothing is cached.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vaxops.access.scope import require
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.sites.models import Session, SessionStatus
from vaxops.staff import readiness_rules as rules
from vaxops.staff import reference
from vaxops.staff.models import HOSPITAL_KINDS, Qualification, Readiness, ReadinessException, RosterEntry
from vaxops.staff.services import check_session, scoped_session

#: ids per ``IN (…)`` list: far below every database's limit on bound parameters
CHUNK = 2000
REASON_MAX = 1000


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _minutes(day: dt.date, opens_at: dt.time | None, closes_at: dt.time | None) -> int | None:
    if opens_at and closes_at:
        start, end = dt.datetime.combine(day, opens_at), dt.datetime.combine(day, closes_at)
        if end > start:
            return int((end - start).total_seconds() // 60)
    return None


def _facts(sessions: Iterable[Session | int]) -> tuple[dict[int, rules.SessionFacts], dict[int, dict]]:
    """The facts and the submitted values of each session: five statements per chunk of ids,
    whatever their number (sessions, products, roster with units, trainings, readiness rows)."""
    ids = sorted({s.pk if isinstance(s, Session) else int(s) for s in sessions})
    facts: dict[int, rules.SessionFacts] = {}
    values: dict[int, dict] = {}
    training = reference.checklist().item("vaccinators_trained").rule["qualification"]
    for chunk in _chunks(ids):
        rows = list(Session.objects.filter(pk__in=chunk).values(
            "pk", "date", "planned_doses", "opens_at", "closes_at", "site__kind"))
        products: dict[int, list[str]] = defaultdict(list)
        for sid, code in Session.products.through.objects.filter(session_id__in=chunk).values_list(
                "session_id", "product__code"):
            products[sid].append(code)
        roster: dict[int, list[tuple[int, str, int | None]]] = defaultdict(list)
        staff_ids: set[int] = set()
        for sid, staff_id, role, kind, level in RosterEntry.objects.filter(session_id__in=chunk).values_list(
                "session_id", "staff_id", "role", "staff__unit__kind", "staff__unit__hospital_level"):
            roster[sid].append((staff_id, role, level if kind in HOSPITAL_KINDS else None))
            staff_ids.add(staff_id)
        trained: dict[int, dict[str, dt.date]] = defaultdict(dict)
        if staff_ids:
            earliest = min(r["date"] for r in rows) if rows else dt.date.min
            for sub in _chunks(sorted(staff_ids)):
                for staff_id, code, until in Qualification.objects.filter(
                        staff_id__in=sub, kind=training, product__isnull=False, valid_until__gte=earliest,
                ).values_list("staff_id", "product__code", "valid_until"):
                    if until > trained[staff_id].get(code, dt.date.min):
                        trained[staff_id][code] = until
        for sid, items in Readiness.objects.filter(session_id__in=chunk).values_list("session_id", "items"):
            values[sid] = items or {}
        for r in rows:
            facts[r["pk"]] = rules.SessionFacts(
                date=r["date"], site_kind=r["site__kind"], planned_doses=r["planned_doses"],
                session_minutes=_minutes(r["date"], r["opens_at"], r["closes_at"]),
                products=tuple(sorted(products[r["pk"]])),
                roster=tuple(rules.RosterFact(staff_id=st, role=role, hospital_level=level,
                                              trained_until=dict(trained.get(st, {})))
                             for st, role, level in roster[r["pk"]]),
            )
    return facts, values


def states_for(sessions: Iterable[Session | int]) -> dict[int, dict[str, dict | None]]:
    """Each session's checklist: item code -> ``None`` (satisfied) or its reason."""
    checklist = reference.checklist()
    facts, values = _facts(sessions)
    return {sid: rules.evaluate(checklist, f, values.get(sid, {})) for sid, f in facts.items()}


def missing_for(sessions: Iterable[Session | int]) -> dict[int, list[str]]:
    """Bulk ``missing_items``: session id -> the item codes still missing (same answers, a
    fixed number of statements for any number of sessions)."""
    return {sid: rules.missing(states) for sid, states in states_for(sessions).items()}


def missing_items(session: Session | int) -> list[str]:
    """The stable codes of the checklist items the session still lacks, in checklist order."""
    sid = session.pk if isinstance(session, Session) else int(session)
    return missing_for([sid]).get(sid, [])


def exception_for(session: Session | int) -> ReadinessException | None:
    """The county command's written exception for the session, if one was granted."""
    sid = session.pk if isinstance(session, Session) else int(session)
    return ReadinessException.objects.filter(session_id=sid).select_related("granted_by").first()


def submitted(session: Session | int) -> Readiness | None:
    """The submitted values of a session's checklist (who submitted last and when)."""
    sid = session.pk if isinstance(session, Session) else int(session)
    return Readiness.objects.filter(session_id=sid).select_related("recorded_by").first()


# --- writing -----------------------------------------------------------------------------------

#: the hint shown for each ``InvalidValue.problem`` (what the value should look like)
HINTS = {
    "not_an_object": lambda: _("give the item's fields as an object."),
    "not_a_number": lambda: _("give a number."),
    "not_a_whole_number": lambda: _("give a whole number."),
    "not_a_date": lambda: _("give each expiry date as YYYY-MM-DD."),
    "plate": lambda: _("give the ambulance's plate (at most 16 characters)."),
    "crew": lambda: _("name the ambulance's crew (1 to 20 names)."),
    "plate_or_distance": lambda: _("give either the plate and crew of the ambulance on site, or the minutes to one."),
    "unknown_field": lambda: _("a field is not part of this item."),
    "minutes": lambda: _("give the minutes to the ambulance (0 to 1440)."),
    "distance": lambda: _("give the distance in kilometres (0 to 1000)."),
    "checked": lambda: _("say whether the kit was checked (true or false)."),
    "drugs": lambda: _("give the kit's drugs as an object."),
    "unknown_drug": lambda: _("a drug is not on the campaign's kit list."),
    "present_or_not": lambda: _("equipment without an expiry date is present (true) or not (false)."),
    "seats": lambda: _("give the number of seats (0 to 100000)."),
    "implausible_temperature": lambda: _("a reading outside −60 to +60 °C cannot be right."),
}


def parse_items(items: Any) -> dict[str, Any]:
    """The submitted values in their stored form, or the request's ``VaxopsError`` (422)."""
    if not isinstance(items, Mapping):
        raise VaxopsError("invalid_request", {"field": "items"})
    checklist = reference.checklist()
    out: dict[str, Any] = {}
    for code, value in items.items():
        try:
            out[code] = rules.parse_value(checklist, code, value)
        except rules.UnknownItem:
            raise VaxopsError("unknown_readiness_item", {"item": str(code)[:40]}) from None
        except rules.ComputedItem:
            raise VaxopsError("readiness_item_computed", {"item": code, "item_name": reference.item_name(code)}) from None
        except rules.InvalidValue as exc:
            raise VaxopsError("invalid_readiness_value", {
                "item": code, "problem": exc.problem, "item_name": reference.item_name(code),
                "hint": HINTS.get(exc.problem, HINTS["not_an_object"])()}) from None
    return out


def _answer(session_id: int) -> dict[str, Any]:
    states = states_for([session_id]).get(session_id, {})
    missing = rules.missing(states)
    return {"complete": not missing, "missing": missing,
            "reasons": {code: state for code, state in states.items() if state is not None}}


def record_readiness(session: Session | int, items: dict[str, Any], *, acting_user: Any,
                     source: str = Source.CLI) -> dict[str, Any]:
    """Record checklist values for a session at the site manager's site (each submitted item
    replaces its earlier value) and answer the state: ``{complete, missing, reasons}``.

    A value that cannot be read refuses the whole submission (422, nothing written); a value
    that does not satisfy its rule (a fridge at 9 °C) is recorded and leaves the item missing.
    Refused for a closed session."""
    require(acting_user, "readiness.record")
    values = parse_items(items)
    session_id = session.pk if isinstance(session, Session) else session
    with transaction.atomic(durable=True):
        s = scoped_session(acting_user, "readiness.record", session_id, lock=True)
        if s.status == SessionStatus.CLOSED:
            raise VaxopsError("readiness_session_closed")
        now = timezone.now()
        row = Readiness.objects.filter(session=s).first()
        before = dict(row.items) if row else {}
        if row is None:
            row = Readiness(session=s, items={})
        row.items = {**before, **values}
        row.recorded_by, row.recorded_at = acting_user, now
        row.save()
        answer = _answer(s.pk)
        audit("staff.readiness.record", s, actor=acting_user, source=source, county_code=s.site.county_code,
              before={k: before.get(k) for k in values}, after={"items": values, "missing": answer["missing"]})
    return answer


def record_readiness_many(items_by_session: Mapping[Session, dict[str, Any]], *, acting_user: Any,
                          source: str = Source.CLI) -> None:
    """``record_readiness`` for many sessions at once (the demo): the same rules, every value
    read before anything is written, one transaction and one audit event."""
    require(acting_user, "readiness.record")
    parsed = {(s.pk if isinstance(s, Session) else int(s)): parse_items(v) for s, v in items_by_session.items()}
    if not parsed:
        return
    ids = sorted(parsed)
    with transaction.atomic(durable=True):
        sessions = {}
        for chunk in _chunks(ids):
            sessions.update({s.pk: s for s in Session.objects.filter(pk__in=chunk).select_related("site__division")})
        for sid in ids:
            s = sessions.get(sid)
            check_session(acting_user, "readiness.record", s)
            if s.status == SessionStatus.CLOSED:  # type: ignore[union-attr]
                raise VaxopsError("readiness_session_closed", {"session": sid})
        now = timezone.now()
        existing: dict[int, Readiness] = {}
        for chunk in _chunks(ids):
            existing.update({r.session_id: r for r in Readiness.objects.filter(session_id__in=chunk)})
        updates, creates = [], []
        for sid in ids:
            row = existing.get(sid)
            if row is None:
                creates.append(Readiness(session_id=sid, items=parsed[sid], recorded_by=acting_user, recorded_at=now))
            else:
                row.items = {**row.items, **parsed[sid]}
                row.recorded_by, row.recorded_at = acting_user, now
                updates.append(row)
        Readiness.objects.bulk_create(creates, batch_size=500)
        Readiness.objects.bulk_update(updates, ["items", "recorded_by", "recorded_at"], batch_size=500)
        first = sessions[ids[0]]
        audit("staff.readiness.record_many", first, actor=acting_user, source=source,
              county_code=first.site.county_code, after={"sessions": ids[:1000], "count": len(ids)})


def grant_exception(session: Session | int, *, reason: str, acting_user: Any,
                    source: str = Source.CLI) -> ReadinessException:
    """The county command's written exception: the session may open although these items are
    missing (kept with it). Only for a planned session whose checklist is incomplete, once."""
    require(acting_user, "readiness.exception")
    text = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not text:
        raise VaxopsError("exception_reason_required")
    if len(text) > REASON_MAX:
        raise VaxopsError("exception_reason_too_long", {"limit": REASON_MAX})
    session_id = session.pk if isinstance(session, Session) else session
    with transaction.atomic(durable=True):
        s = scoped_session(acting_user, "readiness.exception", session_id, lock=True)
        if s.status != SessionStatus.PLANNED:
            raise VaxopsError("exception_session_not_planned")
        if ReadinessException.objects.filter(session=s).exists():
            raise VaxopsError("readiness_exception_exists")
        missing = missing_items(s.pk)
        if not missing:
            raise VaxopsError("readiness_already_complete")
        exc = ReadinessException.objects.create(session=s, reason=text, missing=missing, granted_by=acting_user,
                                                granted_at=timezone.now())
        audit("staff.readiness.exception", exc, actor=acting_user, source=source, county_code=s.site.county_code,
              after={"session": s.pk, "reason": text, "missing": missing})
    return exc
