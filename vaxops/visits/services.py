"""The visit steps: the only writers of ``Visit`` (and of the session's station counts).

Each step is one durable transaction with one audit event, after the user's right to the
session's site (``visit.manage``) is checked through ``vaxops.access.scope``. The visit row is
locked (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite's write transaction serialises writers)
so two desks acting on one ticket are decided one after the other.

The dose is written by the one dose path (``vaccination.batch.record_doses``) and linked to the
visit in the same transaction (its ``within`` step): the dose, the link and both audit events
commit together or not at all. A dose, once given, is a fact, so the link is made whatever else
the visit did meanwhile. Two doses for one visit are refused by the link (one to one) and,
before it, by the dose rules themselves (a second dose of a series on the same day is too early
for every product).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from vaxops.access.scope import check_scoped, get_scoped, require
from vaxops.campaign.services import TZ
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.models import Deferral, Person
from vaxops.sites.models import Session, SessionStatus, Site
from vaxops.visits.models import Stage, StationCount, Visit, VisitStatus
from vaxops.visits.screening import CODES

#: Largest station or seat count the board accepts.
MAX_STATIONS = 2000


def observation_minutes() -> float:
    """The campaign's observation time after a dose (setting ``VAXOPS_OBSERVATION_MINUTES``,
    default 30: the national rule; a deployment serves one campaign)."""
    return float(getattr(settings, "VAXOPS_OBSERVATION_MINUTES", 30))


def _now(at: dt.datetime | None) -> dt.datetime:
    if at is None:
        return timezone.now()
    if not isinstance(at, dt.datetime) or timezone.is_naive(at):
        raise VaxopsError("invalid_datetime", {"field": "at"})
    return at


def _site_row(site: Site) -> dict[str, Any]:
    return {"pk": site.pk, "division__path": site.division.path}


def scoped_session(session_id: int, user: Any, action: str, *, lock: bool = False) -> Session:
    """The session ``session_id`` if the user may ``action`` at its site, else 404 (403 without
    the role). ``lock`` takes the session row's lock (call inside a transaction)."""
    qs = Session.objects.select_related("site__division")
    if lock:
        qs = qs.select_for_update(of=("self",))
    session = qs.filter(pk=session_id).first()
    check_scoped(user, action, Site, _site_row(session.site) if session else None, not_found="session_not_found",
                 detail={"session_id": session_id})
    return session


def scoped_visit(visit_id: int, user: Any, action: str = "visit.manage", *, lock: bool = False) -> Visit:
    """The visit ``visit_id`` within the user's area for ``action`` (404 outside it)."""
    qs = Visit.objects.select_related("session__site__division", "person")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return get_scoped(qs, user, action, not_found="visit_not_found", detail={"visit_id": visit_id}, pk=visit_id)


def _pk(obj: Any) -> int:
    return obj if isinstance(obj, int) else obj.pk


def _visit_audit(action: str, visit: Visit, user: Any, source: str, before: str | None, **after: Any) -> None:
    audit(action, visit, actor=user, source=source, county_code=visit.county_code,
          before={"status": before} if before else None, after={"status": visit.status, **after})


# --- check-in ------------------------------------------------------------------------------------


def check_in(
    session: Session | int, person: Person | int, *, client_uuid: uuid.UUID | str, acting_user: Any,
    at: dt.datetime | None = None, source: str = Source.WEB,
) -> Visit:
    """Check a person in at an open session and give the next ticket.

    Guarantees: tickets of a session are 1, 2, 3 … in check-in order without gaps, also under
    concurrency (taken under the session row's lock, which also decides a race with the
    session's closing); a retried check-in (same ``client_uuid``) returns the first visit, one
    for another session or person is ``idempotency_conflict``; a person has at most one visit
    still under way per session (``visit_exists``). 409 ``session_not_open`` unless the
    session is open.
    """
    now = _now(at)
    try:
        key = uuid.UUID(str(client_uuid))
    except ValueError:
        raise VaxopsError("invalid_request", {"field": "client_uuid"}) from None
    require(acting_user, "visit.manage")
    scoped_session(_pk(session), acting_user, "visit.manage")
    who = get_scoped(Person.objects.all(), acting_user, "person.vaccinate", not_found="person_not_found",
                     detail={"person_id": _pk(person)}, pk=_pk(person))
    try:
        with transaction.atomic(durable=True):
            locked = Session.objects.select_for_update(of=("self",)).select_related("site").get(pk=_pk(session))
            existing = Visit.objects.filter(client_uuid=key).first()
            if existing is not None:
                return _replayed_check_in(existing, locked, who)
            if locked.status != SessionStatus.OPEN:
                raise VaxopsError("session_not_open", {"session_id": locked.pk, "status": locked.status,
                                                       "site_name": locked.site.name})
            active = Visit.objects.filter(session=locked, person=who, status__in=[
                VisitStatus.WAITING, VisitStatus.SCREENED, VisitStatus.IN_OBSERVATION]).first()
            if active is not None:
                raise VaxopsError("visit_exists", {"id": active.pk, "ticket": active.ticket})
            last = Visit.objects.filter(session=locked).aggregate(m=Max("ticket"))["m"] or 0
            visit = Visit.objects.create(
                session=locked, person=who, client_uuid=key, ticket=last + 1, status=VisitStatus.WAITING,
                county_code=locked.site.county_code, checked_in_at=now, checked_in_by=acting_user,
            )
            _visit_audit("visit.check_in", visit, acting_user, source, None, ticket=visit.ticket,
                         session=locked.pk, person=who.pk)
            return visit
    except IntegrityError:
        # The same client_uuid committed by another session's check-in meanwhile.
        existing = Visit.objects.filter(client_uuid=key).first()
        if existing is None:
            raise
        return _replayed_check_in(existing, Session.objects.get(pk=_pk(session)), who)


def _replayed_check_in(existing: Visit, session: Session, person: Person) -> Visit:
    if existing.session_id != session.pk or existing.person_id != person.pk:
        raise VaxopsError("idempotency_conflict", {"client_uuid": str(existing.client_uuid)})
    return existing


# --- screening -----------------------------------------------------------------------------------


def _answers(answers: Mapping[str, Any] | None) -> dict[str, bool]:
    out: dict[str, bool] = {}
    for code, value in (answers or {}).items():
        if code not in CODES:
            raise VaxopsError("invalid_screening_answer", {"question": str(code)[:40]})
        if not isinstance(value, bool):
            raise VaxopsError("invalid_request", {"field": f"answers.{code}"})
        out[code] = value
    return out


def _check_not_vaccinated(visit: Visit) -> None:
    if visit.status in (VisitStatus.IN_OBSERVATION, VisitStatus.RELEASED) or visit.dose_id is not None:
        raise VaxopsError("visit_already_vaccinated", {"id": visit.pk})
    if visit.status in (VisitStatus.DEFERRED, VisitStatus.LEFT):
        raise VaxopsError("visit_finished", {"id": visit.pk, "status": visit.status})


def screen(
    visit: Visit | int, *, outcome: str, contraindication: str | None = None, until: dt.date | None = None,
    answers: Mapping[str, Any] | None = None, note: str = "", acting_user: Any, at: dt.datetime | None = None,
    source: str = Source.WEB,
) -> Visit:
    """Record the screening: ``pass`` (waiting → screened) or ``defer`` (waiting or screened →
    deferred), with the answers to the pre-vaccination questions (``visits.screening``).

    A deferral is written by the registry's deferral service in the same transaction, with its
    reason (``contraindication``, a ``registry.Deferral.Reason``), from the day of the visit
    to ``until`` (inclusive; none: until lifted). 409 ``visit_already_vaccinated`` on a
    vaccinated visit, ``visit_finished`` on one deferred or left; the same outcome sent again
    returns the visit unchanged.
    """
    now = _now(at)
    if outcome not in ("pass", "defer"):
        raise VaxopsError("invalid_request", {"field": "outcome", "allowed": ["pass", "defer"]})
    clean = _answers(answers)
    if outcome == "defer":
        if not contraindication:
            raise VaxopsError("contraindication_required")
        if contraindication not in Deferral.Reason.values:
            raise VaxopsError("invalid_contraindication", {"contraindication": str(contraindication)[:40],
                                                           "allowed": list(Deferral.Reason.values)})
        if until is not None and (not isinstance(until, dt.date) or until <= now.astimezone(TZ).date()):
            raise VaxopsError("deferral_until_past", {"until": str(until)})
    require(acting_user, "visit.manage")
    with transaction.atomic(durable=True):
        v = scoped_visit(_pk(visit), acting_user, lock=True)
        if outcome == "pass" and v.status == VisitStatus.SCREENED:
            return v
        if outcome == "defer" and v.status == VisitStatus.DEFERRED:
            return v
        _check_not_vaccinated(v)
        before = v.status
        if outcome == "pass" and before != VisitStatus.WAITING:
            raise VaxopsError("visit_wrong_step", {"id": v.pk, "status": before})
        v.screened_at, v.screened_by, v.screening_answers = now, acting_user, clean
        if outcome == "pass":
            v.status = VisitStatus.SCREENED
        else:
            from vaxops.registry.services import defer_in_transaction

            v.deferral = defer_in_transaction(
                person_id=v.person_id, code=contraindication, since=now.astimezone(TZ).date(), until=until,
                note=note or f"visit {v.session_id}/{v.ticket}", acting_user=acting_user, source=source,
            )
            v.status = VisitStatus.DEFERRED
        v.save(update_fields=["status", "screened_at", "screened_by", "screening_answers", "deferral"])
        _visit_audit("visit.screen", v, acting_user, source, before, outcome=outcome,
                     contraindication=contraindication, until=str(until) if until else None)
    return v


# --- vaccination ---------------------------------------------------------------------------------


def vaccinate(
    visit: Visit | int, *, product_code: str, lot_number: str, acting_user: Any, at: dt.datetime | None = None,
    client_uuid: uuid.UUID | str | None = None, source: str = Source.WEB, **dose_fields: Any,
):
    """Record the visit's dose through the one dose path at the session's site, link it to the
    visit and start the observation (``observation_until`` = the dose's time + the campaign's
    observation minutes). Returns the ``DoseRecord``.

    The visit must be screened (409 ``visit_not_screened``; ``visit_already_vaccinated`` if it
    has its dose; ``visit_finished`` if deferred or left). ``dose_fields`` go to
    ``record_dose`` (``override_reason``, ``dose_number``, ``retrospective_reason``, ``now``).
    A retry with the same ``client_uuid`` returns the same dose.
    """
    return vaccinate_visit(visit, product_code=product_code, lot_number=lot_number, acting_user=acting_user,
                           at=at, client_uuid=client_uuid, source=source, **dose_fields)[0]


def vaccinate_visit(
    visit: Visit | int, *, product_code: str, lot_number: str, acting_user: Any, at: dt.datetime | None = None,
    client_uuid: uuid.UUID | str | None = None, source: str = Source.WEB, site_code: str | None = None,
    person_id: int | None = None, now: dt.datetime | None = None, **dose_fields: Any,
) -> tuple[Any, bool]:
    """``vaccinate`` returning ``(dose, created)``; ``site_code`` and ``person_id``, when given,
    must be the visit's (422 ``visit_wrong_site``, 409 ``visit_person_mismatch``: the API's
    ``POST /api/v1/doses`` with a ``visit_id``).

    The dose, the visit's link to it (one conditional update) and the visit's audit event commit
    in the dose batch's one transaction (``record_doses(within=…)``), or none of them."""
    from vaxops.vaccination.batch import DoseItem, record_doses

    require(acting_user, "visit.manage")
    v = scoped_visit(_pk(visit), acting_user)
    if site_code is not None and v.session.site.code != site_code:
        raise VaxopsError("visit_wrong_site", {"id": v.pk, "site_code": v.session.site.code})
    if person_id is not None and v.person_id != person_id:
        raise VaxopsError("visit_person_mismatch", {"id": v.pk})
    key = uuid.UUID(str(client_uuid)) if client_uuid else uuid.uuid4()
    if v.dose_id is not None:
        if v.dose.client_uuid == key:
            return v.dose, False
        raise VaxopsError("visit_already_vaccinated", {"id": v.pk})
    _check_not_vaccinated(v)
    if v.status != VisitStatus.SCREENED:
        raise VaxopsError("visit_not_screened", {"id": v.pk, "status": v.status})
    item = DoseItem(client_uuid=key, person_id=v.person_id, product_code=product_code, lot_number=lot_number,
                    site_code=v.session.site.code, administered_at=_now(at), **dose_fields)

    def link(outcomes: list) -> None:
        o = outcomes[0]
        if o.error is None and o.written:
            _link(v, o.record, replayed=o.status == "replayed", user=acting_user, source=source)

    outcome = record_doses([item], acting_user=acting_user, source=source, now=now, within=link)[0]
    if outcome.error is not None:
        raise outcome.error
    return outcome.record, outcome.status == "created"


def _link(v: Visit, dose: Any, *, replayed: bool, user: Any, source: str) -> None:
    """Link ``dose`` to the visit and start its observation, inside the dose's transaction: one
    conditional update (the visit without a dose; a dose, once given, is a fact, so whatever
    else the visit did meanwhile), then its audit event."""
    if dose.person_id != v.person_id:
        raise VaxopsError("visit_person_mismatch", {"id": v.pk})
    if replayed and Visit.objects.filter(dose_id=dose.pk).exclude(pk=v.pk).exists():
        # A replayed submission sent for a second visit: its dose is the first visit's.
        raise VaxopsError("idempotency_conflict", {"client_uuid": str(dose.client_uuid)})
    before = v.status
    until = dose.administered_at + dt.timedelta(minutes=observation_minutes())
    done = Visit.objects.filter(pk=v.pk, dose__isnull=True).update(
        dose=dose, vaccinated_at=dose.administered_at, vaccinated_by=user if getattr(user, "pk", None) else None,
        observation_until=until, status=VisitStatus.IN_OBSERVATION, left_at=None, left_by=None, left_step="")
    if not done:
        if Visit.objects.filter(pk=v.pk, dose_id=dose.pk).exists():
            return
        raise VaxopsError("visit_already_vaccinated", {"id": v.pk})
    v.dose, v.vaccinated_at, v.observation_until, v.status = dose, dose.administered_at, until, VisitStatus.IN_OBSERVATION
    v.left_at, v.left_by, v.left_step = None, None, ""
    _visit_audit("visit.vaccinate", v, user, source, before, dose=dose.pk, observation_until=until.isoformat())


def link_dose(visit_id: int, dose: Any, *, acting_user: Any, source: str = Source.WEB) -> Visit:
    """Link a dose recorded earlier to its visit and start the observation, in a transaction of
    its own (``vaccinate`` links in the dose's own transaction)."""
    with transaction.atomic(durable=True):
        v = scoped_visit(visit_id, acting_user, lock=True)
        if v.dose_id == dose.pk:
            return v
        if v.dose_id is not None:
            raise VaxopsError("visit_already_vaccinated", {"id": v.pk})
        _link(v, dose, replayed=True, user=acting_user, source=source)
        return v


# --- observation and leaving ---------------------------------------------------------------------


def release(visit: Visit | int, *, acting_user: Any, at: dt.datetime | None = None,
            source: str = Source.WEB) -> Visit:
    """Release a person after observation: 409 ``observation_not_finished`` before
    ``observation_until``; ``visit_wrong_step`` unless in observation (released again: unchanged)."""
    now = _now(at)
    require(acting_user, "visit.manage")
    with transaction.atomic(durable=True):
        v = scoped_visit(_pk(visit), acting_user, lock=True)
        if v.status == VisitStatus.RELEASED:
            return v
        if v.status != VisitStatus.IN_OBSERVATION:
            raise VaxopsError("visit_wrong_step", {"id": v.pk, "status": v.status})
        if now < v.observation_until:
            raise VaxopsError("observation_not_finished",
                              {"id": v.pk, "observation_until": v.observation_until.astimezone(TZ).isoformat()})
        v.status, v.released_at, v.released_by = VisitStatus.RELEASED, now, acting_user
        v.save(update_fields=["status", "released_at", "released_by"])
        _visit_audit("visit.release", v, acting_user, source, VisitStatus.IN_OBSERVATION)
    return v


def leave(visit: Visit | int, *, acting_user: Any, at: dt.datetime | None = None, source: str = Source.WEB) -> Visit:
    """The person left before release; the visit keeps the step they left at (``left_step``).
    409 ``visit_finished`` on a visit released or deferred (left again: unchanged)."""
    now = _now(at)
    require(acting_user, "visit.manage")
    with transaction.atomic(durable=True):
        v = scoped_visit(_pk(visit), acting_user, lock=True)
        if v.status == VisitStatus.LEFT:
            return v
        if v.status in (VisitStatus.RELEASED, VisitStatus.DEFERRED):
            raise VaxopsError("visit_finished", {"id": v.pk, "status": v.status})
        before = v.status
        v.status, v.left_at, v.left_by, v.left_step = VisitStatus.LEFT, now, acting_user, before
        v.save(update_fields=["status", "left_at", "left_by", "left_step"])
        _visit_audit("visit.leave", v, acting_user, source, before, left_step=before)
    return v


# --- station counts ------------------------------------------------------------------------------


def set_stations(session: Session | int, counts: Mapping[str, Any], *, acting_user: Any,
                 at: dt.datetime | None = None, source: str = Source.WEB) -> dict[str, int]:
    """Set how many screening desks, vaccination stations and observation seats the session
    has staffed (``whatif.run``: the site manager or the county command). Returns all counts."""
    now = _now(at)
    clean: dict[str, int] = {}
    for stage, count in counts.items():
        if stage not in Stage.values:
            raise VaxopsError("invalid_stage", {"stage": str(stage)[:40]})
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= MAX_STATIONS:
            raise VaxopsError("invalid_station_count", {"max": MAX_STATIONS, "stage": stage})
        clean[stage] = count
    require(acting_user, "whatif.run")
    with transaction.atomic(durable=True):
        s = scoped_session(_pk(session), acting_user, "whatif.run", lock=True)
        for stage, count in clean.items():
            StationCount.objects.update_or_create(
                session=s, stage=stage, defaults={"count": count, "set_at": now, "set_by": acting_user})
        audit("visit.stations", s, actor=acting_user, source=source, county_code=s.site.county_code, after=clean)
    return station_counts(s)


def station_counts(session: Session | int) -> dict[str, int]:
    """The session's counts per stage (``visits.whatif.DEFAULT_STATIONS`` where none was set)."""
    from vaxops.visits.whatif import DEFAULT_STATIONS

    out = dict(DEFAULT_STATIONS)
    out.update(StationCount.objects.filter(session_id=_pk(session)).values_list("stage", "count"))
    return out


# --- replay (the demo) ---------------------------------------------------------------------------

REPLAY_FIELDS = frozenset({
    "session_id", "person_id", "client_uuid", "checked_in_at", "screened_at", "outcome", "contraindication",
    "until", "answers", "dose_id", "released_at", "left_at",
})


def replay_visits(rows: Iterable[Mapping[str, Any]], *, acting_user: Any, source: str = Source.CLI) -> int:
    """Write many visits of the past at once (the demo's replayed day), with the same state
    rules as the steps one by one and the times given; returns the number written.

    Each row: ``session_id``, ``person_id``, ``client_uuid``, ``checked_in_at`` (aware), then
    as far as the visit went: ``screened_at`` with ``outcome`` ``"pass"`` or ``"defer"``
    (a deferral: ``contraindication``, optional ``until``; optional ``answers``); ``dose_id``
    (a dose already recorded for the person at the session's site through the dose path,
    ``vaccination.batch.record_doses``; its ``administered_at`` is the vaccination time);
    ``released_at`` (not before the end of observation); ``left_at`` (at the step reached).
    Tickets follow the check-in times, after a session's existing tickets. The sessions must
    be open and at sites where the user has ``visit.manage``. One durable transaction and one
    audit event (``visit.replay``) per call; any bad row refuses the whole call.
    """
    from vaxops.vaccination.models import DoseRecord

    rows = list(rows)
    if not rows:
        return 0
    require(acting_user, "visit.manage")
    for i, row in enumerate(rows):
        extra = set(row) - REPLAY_FIELDS
        if extra:
            raise VaxopsError("invalid_request", {"row": i, "field": sorted(extra)[0]})
    minutes = dt.timedelta(minutes=observation_minutes())
    with transaction.atomic(durable=True):
        session_ids = sorted({int(r["session_id"]) for r in rows})
        sessions = {}
        for sid in session_ids:  # in id order: the same lock order as every other writer
            s = scoped_session(sid, acting_user, "visit.manage", lock=True)
            if s.status != SessionStatus.OPEN:
                raise VaxopsError("session_not_open", {"session_id": s.pk, "status": s.status, "site_name": s.site.name})
            sessions[sid] = s
        dose_ids = [int(r["dose_id"]) for r in rows if r.get("dose_id")]
        doses = {d.pk: d for d in DoseRecord.objects.filter(pk__in=dose_ids).only(
            "pk", "person_id", "site_id", "administered_at", "status")}
        linked = set(Visit.objects.filter(dose_id__in=dose_ids).values_list("dose_id", flat=True))
        if linked or len(set(dose_ids)) != len(dose_ids):
            raise VaxopsError("visit_already_vaccinated", {"dose_id": sorted(linked)[:1] or None})
        order = sorted(range(len(rows)), key=lambda i: (int(rows[i]["session_id"]), rows[i]["checked_in_at"], i))
        tickets = {sid: Visit.objects.filter(session_id=sid).aggregate(m=Max("ticket"))["m"] or 0
                   for sid in session_ids}
        visits: list[Visit] = []
        deferred: list[tuple[Visit, Mapping[str, Any]]] = []
        for i in order:
            row = rows[i]
            s = sessions[int(row["session_id"])]
            v = _replayed_visit(i, row, s, doses, minutes, acting_user)
            tickets[s.pk] += 1
            v.ticket = tickets[s.pk]
            if v.status == VisitStatus.DEFERRED:
                deferred.append((v, row))
            visits.append(v)
        if deferred:
            from vaxops.registry.services import defer_in_transaction

            for v, row in deferred:
                v.deferral = defer_in_transaction(
                    person_id=v.person_id, code=row["contraindication"], since=v.screened_at.astimezone(TZ).date(),
                    until=row.get("until"), note=f"visit {v.session_id}/{v.ticket}", acting_user=acting_user,
                    source=source,
                )
        try:
            _insert_visits(visits)
        except IntegrityError:
            raise VaxopsError("idempotency_conflict", {"client_uuid": None}) from None
        audit("visit.replay", sessions[session_ids[0]], actor=acting_user, source=source,
              county_code=sessions[session_ids[0]].site.county_code,
              after={"visits": len(visits), "sessions": session_ids,
                     "by_status": {st: sum(v.status == st for v in visits) for st in VisitStatus.values}})
    return len(visits)


def _insert_visits(visits: list[Visit]) -> None:
    """Insert ``visits`` with one prepared statement run for all rows (``executemany``).

    ``bulk_create`` compiled each row's values through every field (about two thirds of a
    replayed day's time); the columns here are adapted by their kind once per column, as the
    fields themselves would (aware datetimes, UUIDs, JSON), and the database still checks
    every constraint (unique tickets and client UUIDs, one visit per dose).
    """
    from django.db import connection

    from vaxops.core.audit import _insert_sql

    if not visits:
        return
    sql, fields = _insert_sql(Visit, connection.alias, False)
    ops = connection.ops
    adapters = []
    for f in fields:
        kind = f.get_internal_type()
        if kind == "DateTimeField":
            adapters.append(ops.adapt_datetimefield_value)
        elif kind == "UUIDField":
            adapters.append((lambda v: v) if connection.features.has_native_uuid_field else (lambda v: v.hex))
        elif kind == "JSONField":
            adapters.append(lambda v, f=f: f.get_db_prep_save(v, connection))
        else:
            adapters.append(None)
    attnames = [f.attname for f in fields]
    params = [
        [a(getattr(v, name)) if a is not None and getattr(v, name) is not None else getattr(v, name)
         for name, a in zip(attnames, adapters, strict=True)]
        for v in visits
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _replayed_visit(i: int, row: Mapping[str, Any], session: Session, doses: dict, minutes: dt.timedelta,
                    user: Any) -> Visit:
    """One replayed visit, checked step by step as the services check them."""

    def when(name: str) -> dt.datetime | None:
        value = row.get(name)
        if value is None:
            return None
        if not isinstance(value, dt.datetime) or timezone.is_naive(value):
            raise VaxopsError("invalid_datetime", {"row": i, "field": name})
        return value

    def bad(field: str, status: str = "") -> VaxopsError:
        return VaxopsError("visit_wrong_step", {"row": i, "field": field, "status": status})

    checked_in = when("checked_in_at")
    if checked_in is None:
        raise VaxopsError("invalid_request", {"row": i, "field": "checked_in_at"})
    v = Visit(session=session, person_id=int(row["person_id"]), client_uuid=uuid.UUID(str(row["client_uuid"])),
              county_code=session.site.county_code, checked_in_at=checked_in, checked_in_by=user,
              status=VisitStatus.WAITING)
    screened, released, left = when("screened_at"), when("released_at"), when("left_at")
    last = checked_in
    if screened is not None:
        if screened < last:
            raise bad("screened_at")
        outcome = row.get("outcome", "pass")
        v.screened_at, v.screened_by, v.screening_answers = screened, user, _answers(row.get("answers"))
        if outcome == "defer":
            code = row.get("contraindication")
            if code not in Deferral.Reason.values:
                raise VaxopsError("invalid_contraindication", {"row": i, "contraindication": str(code)[:40]})
            v.status = VisitStatus.DEFERRED
        elif outcome == "pass":
            v.status = VisitStatus.SCREENED
        else:
            raise VaxopsError("invalid_request", {"row": i, "field": "outcome"})
        last = screened
    if row.get("dose_id"):
        dose = doses.get(int(row["dose_id"]))
        if v.status != VisitStatus.SCREENED:
            raise VaxopsError("visit_not_screened", {"row": i, "status": v.status})
        if dose is None or dose.person_id != v.person_id or dose.site_id != session.site_id:
            raise VaxopsError("visit_person_mismatch", {"row": i, "dose_id": row["dose_id"]})
        if dose.administered_at < last:
            raise bad("dose_id", v.status)
        v.dose_id, v.vaccinated_at, v.vaccinated_by = dose.pk, dose.administered_at, user
        v.observation_until = dose.administered_at + minutes
        v.status = VisitStatus.IN_OBSERVATION
        last = dose.administered_at
    if released is not None:
        if v.status != VisitStatus.IN_OBSERVATION:
            raise bad("released_at", v.status)
        if released < v.observation_until:
            raise VaxopsError("observation_not_finished",
                              {"row": i, "observation_until": v.observation_until.astimezone(TZ).isoformat()})
        v.status, v.released_at, v.released_by = VisitStatus.RELEASED, released, user
    if left is not None:
        if v.status in (VisitStatus.RELEASED, VisitStatus.DEFERRED) or left < last:
            raise bad("left_at", v.status)
        v.left_step, v.status, v.left_at, v.left_by = v.status, VisitStatus.LEFT, left, user
    return v
