"""The sessions service: planning, opening and closing a site's sessions (docs/sessions.md).

A session is planned (``create_session``, ``create_sessions``, ``plan_week`` from the county's
templates, ``plan_circuit`` from a mobile team's circuit), opened through the
medical-assurance gate (``open_session``: ``vaxops.staff.readiness``) and closed
(``close_session``: the day's open vials written off, the final figures computed). Planned →
open → closed, never back: opening twice, closing a planned session and anything on a closed
session are refused (409). Every function here is one transaction with one audit event; the
area comes from ``vaxops.access.scope``.

Sessions of one site (one team) may not overlap in time on a day (``session_overlap``); the
check runs under the site rows' locks, so two planners cannot both slip in.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from vaxops.access.scope import check_scoped, require, restrict
from vaxops.campaign.services import TZ
from vaxops.catalog.models import Product
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.regions.models import Division
from vaxops.sites import closing
from vaxops.sites import figures as figures_registry
from vaxops.sites.models import (
    Circuit,
    CircuitStop,
    Session,
    SessionKind,
    SessionStatus,
    SessionStop,
    SessionTemplate,
    Site,
)

SOURCE = Source.CLI
_DAY_START, _DAY_END = dt.time(0, 0), dt.time(23, 59, 59)


# --- helpers ---------------------------------------------------------------------------------


def _forget_cached() -> None:
    """Drop the dose path's cache of sessions in this process (other processes: within its TTL;
    vaxops.vaccination.services)."""
    from vaxops.vaccination import services

    services._SESSIONS.clear()


def _changed() -> None:
    _forget_cached()
    transaction.on_commit(_forget_cached)


def _site_row(site: Site) -> dict:
    return {"pk": site.pk, "division__path": site.division.path}


def _session_row(session: Session) -> dict:
    return {"site_id": session.site_id, "site__division__path": session.site.division.path}


def _resolve_site(site: Any, user: Any, action: str) -> Site:
    code = site if isinstance(site, str) else getattr(site, "code", None)
    found = (
        Site.objects.select_related("division").filter(code=code).first() if isinstance(code, str) else None
    )
    check_scoped(user, action, Site, None if found is None else _site_row(found), not_found="site_not_found",
                 detail={"site_code": code})
    return found


def _hours(session: Any) -> tuple[dt.time, dt.time]:
    return session.opens_at or _DAY_START, session.closes_at or _DAY_END


def _hhmm(value: dt.time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def _overlap(site: Site, day: dt.date, a: Any, b: Any) -> VaxopsError | None:
    a0, a1 = _hours(a)
    b0, b1 = _hours(b)
    if a0 < b1 and b0 < a1:
        return VaxopsError("session_overlap", {
            "site_code": site.code, "site_name": site.name, "day": day.isoformat(),
            "opens_at": _hhmm(b.opens_at) or "00:00", "closes_at": _hhmm(b.closes_at) or "24:00",
        })
    return None


def _products(values: Iterable[Any]) -> list[Product]:
    out = []
    for value in values or ():
        if isinstance(value, Product):
            out.append(value)
            continue
        product = Product.objects.filter(code=value).first()
        if product is None:
            raise VaxopsError("product_not_found", {"product": str(value)})
        out.append(product)
    return out


def _division(value: Any, site: Site) -> Division:
    """A stop's village: a Division (or its code) in the site's county."""
    code = value if isinstance(value, str) else getattr(value, "code", None)
    division = Division.objects.filter(code=code).first() if isinstance(code, str) else None
    if division is None or (site.county_code and division.county_code != site.county_code):
        raise VaxopsError("division_not_found", {"division_code": code})
    return division


class _Spec:
    """One session to create, checked."""

    def __init__(self, raw: dict, user: Any, sites: dict[str, Site]) -> None:
        site = raw.get("site")
        key = site if isinstance(site, str) else getattr(site, "code", None)
        if key not in sites:
            sites[key] = _resolve_site(site, user, "session.plan")
        self.site = sites[key]
        day = raw.get("date")
        if isinstance(day, str):
            try:
                day = dt.date.fromisoformat(day)
            except ValueError:
                raise VaxopsError("invalid_date", {"field": "date"}) from None
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise VaxopsError("invalid_date", {"field": "date"})
        self.date = day
        kind = raw.get("kind") or SessionKind.FIXED
        if kind not in SessionKind.values:
            raise VaxopsError("invalid_session_kind", {"kind": str(kind)})
        self.kind = kind
        self.opens_at, self.closes_at = raw.get("opens_at"), raw.get("closes_at")
        if not isinstance(self.opens_at, dt.time) or not isinstance(self.closes_at, dt.time):
            raise VaxopsError("invalid_request", {"field": "opens_at" if not isinstance(self.opens_at, dt.time)
                                                  else "closes_at"})
        if self.closes_at <= self.opens_at:
            raise VaxopsError("session_hours_invalid", {"opens_at": _hhmm(self.opens_at),
                                                        "closes_at": _hhmm(self.closes_at)})
        planned = raw.get("planned_doses", 0) or 0
        if not isinstance(planned, int) or isinstance(planned, bool) or planned < 0 or planned > 1_000_000:
            raise VaxopsError("number_out_of_range", {"field": "planned_doses"})
        self.planned_doses = planned
        self.organisation = (raw.get("organisation") or "").strip()[:120]
        self.products = _products(raw.get("products", ()))
        self.stops: list[tuple[Division, dt.time | None]] = []
        for position, stop in enumerate(raw.get("stops", ()) or ()):
            division, at = stop
            division = _division(division, self.site)
            if at is not None and not (self.opens_at <= at <= self.closes_at):
                raise VaxopsError("stop_outside_hours", {"position": position + 1, "at": _hhmm(at),
                                                         "opens_at": _hhmm(self.opens_at),
                                                         "closes_at": _hhmm(self.closes_at)})
            self.stops.append((division, at))


def _create(specs: Sequence[_Spec]) -> list[Session]:
    """Write ``specs`` (checked) after the overlap check under the sites' locks; no audit."""
    if not specs:
        return []
    site_ids = sorted({s.site.pk for s in specs})
    list(Site.objects.select_for_update().filter(pk__in=site_ids).order_by("pk").values_list("pk", flat=True))
    days = sorted({s.date for s in specs})
    existing: dict[tuple[int, dt.date], list[Any]] = {}
    for row in Session.objects.filter(site_id__in=site_ids, date__in=days).order_by():
        existing.setdefault((row.site_id, row.date), []).append(row)
    for spec in specs:
        for other in existing.get((spec.site.pk, spec.date), ()):
            error = _overlap(spec.site, spec.date, spec, other)
            if error is not None:
                raise error
        existing.setdefault((spec.site.pk, spec.date), []).append(spec)
    rows = Session.objects.bulk_create([
        Session(site=s.site, date=s.date, kind=s.kind, opens_at=s.opens_at, closes_at=s.closes_at,
                planned_doses=s.planned_doses, organisation=s.organisation, status=SessionStatus.PLANNED)
        for s in specs
    ])
    stops, links = [], []
    through = Session.products.through
    for spec, row in zip(specs, rows, strict=True):
        row.site = spec.site
        stops += [SessionStop(session=row, position=i + 1, division=d, arrives_at=at)
                  for i, (d, at) in enumerate(spec.stops)]
        links += [through(session_id=row.pk, product_id=p.pk) for p in {p.pk: p for p in spec.products}.values()]
    if stops:
        SessionStop.objects.bulk_create(stops)
    if links:
        through.objects.bulk_create(links)
    _changed()
    return rows


def _summary(session: Session) -> dict:
    return {"site": session.site.code, "date": session.date.isoformat(), "kind": session.kind,
            "opens_at": _hhmm(session.opens_at), "closes_at": _hhmm(session.closes_at),
            "planned_doses": session.planned_doses, "organisation": session.organisation}


# --- planning --------------------------------------------------------------------------------


def create_session(*, site: Any, date: dt.date, kind: str, opens_at: dt.time, closes_at: dt.time,
                   planned_doses: int = 0, products: Iterable[Any] = (), organisation: str = "",
                   stops: Iterable[tuple[Any, dt.time | None]] = (), acting_user: Any,
                   source: str = SOURCE) -> Session:
    """Plan one session of ``site`` (a Site or its code); ``stops``: [(village, arrival time)]."""
    with transaction.atomic(durable=True):
        spec = _Spec({"site": site, "date": date, "kind": kind, "opens_at": opens_at, "closes_at": closes_at,
                      "planned_doses": planned_doses, "products": products, "organisation": organisation,
                      "stops": list(stops)}, acting_user, {})
        session = _create([spec])[0]
        audit("session.create", session, actor=acting_user, source=source, county_code=spec.site.county_code,
              after={**_summary(session), "stops": [d.code for d, _ in spec.stops],
                     "products": [p.code for p in spec.products]})
    return session


def create_sessions(specs: list[dict], *, acting_user: Any, source: str = SOURCE) -> list[Session]:
    """Plan many sessions at once (the keyword arguments of ``create_session`` per dict), by the
    same rules, all or none, with one audit event."""
    with transaction.atomic(durable=True):
        sites: dict[str, Site] = {}
        checked = [_Spec(dict(raw), acting_user, sites) for raw in specs]
        sessions = _create(checked)
        if sessions:
            counties = {s.site.county_code for s in checked}
            audit("session.create_many", sessions[0], actor=acting_user, source=source,
                  county_code=counties.pop() if len(counties) == 1 else "",
                  after={"sessions": len(sessions), "ids": [s.pk for s in sessions][:1000]})
    return sessions


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def _same(existing: Iterable[Session], spec: _Spec) -> bool:
    return any(e.kind == spec.kind and e.opens_at == spec.opens_at and e.closes_at == spec.closes_at
               for e in existing)


def _new_only(specs: list[_Spec]) -> list[_Spec]:
    """The specs not already planned (same site, day, kind and hours): planning twice adds nothing."""
    if not specs:
        return []
    have: dict[tuple[int, dt.date], list[Session]] = {}
    for row in Session.objects.filter(site_id__in={s.site.pk for s in specs}, date__in={s.date for s in specs}):
        have.setdefault((row.site_id, row.date), []).append(row)
    return [s for s in specs if not _same(have.get((s.site.pk, s.date), ()), s)]


def plan_week(county: Any, week_start: dt.date, *, acting_user: Any, source: str = SOURCE) -> list[Session]:
    """The week of ``week_start`` (any day of it; the week runs Monday to Sunday) planned from the
    active templates of ``county`` (a Division or its code) that the user may plan; the sessions
    already planned with the same hours are kept, not doubled. Returns the sessions created."""
    require(acting_user, "session.plan")
    code = county if isinstance(county, str) else getattr(county, "code", None)
    monday = _monday(week_start)
    with transaction.atomic(durable=True):
        division = Division.objects.filter(code=code).first() if isinstance(code, str) else None
        check_scoped(acting_user, "division.view", Division, None if division is None else {"path": division.path},
                     not_found="division_not_found", detail={"division_code": code})
        templates = list(
            restrict(SessionTemplate.objects.filter(site__county_code=division.code, is_active=True,
                                                    site__is_active=True), acting_user, "session.plan")
            .select_related("site__division").prefetch_related("products").order_by("site__code", "weekday",
                                                                                    "opens_at")
        )
        sites = {t.site.code: t.site for t in templates}
        specs = _new_only([
            _Spec({"site": t.site.code, "date": monday + dt.timedelta(days=t.weekday), "kind": t.kind,
                   "opens_at": t.opens_at, "closes_at": t.closes_at, "planned_doses": t.planned_doses,
                   "organisation": t.organisation, "products": list(t.products.all())}, acting_user, sites)
            for t in templates
        ])
        sessions = _create(specs)
        audit("session.plan_week", division, actor=acting_user, source=source, county_code=division.code,
              after={"week_start": monday.isoformat(), "templates": len(templates), "sessions": len(sessions),
                     "ids": [s.pk for s in sessions]})
    return sessions


def circuit_day(circuit: Circuit, stops: Sequence[CircuitStop], day: dt.date) -> list[tuple[Division, dt.time]]:
    """The villages ``circuit`` visits on ``day`` with the team's arrival times: the villages in
    order, split over the cycle's days (as evenly as they go, earlier days first), each day's
    villages spread evenly over its hours. ``[]``: no session that day."""
    if day < circuit.starts_on or not stops:
        return []
    index = (day - circuit.starts_on).days % circuit.cycle_days
    per_day = math.ceil(len(stops) / circuit.cycle_days)
    group = list(stops[index * per_day:(index + 1) * per_day])
    if not group:
        return []
    start = dt.datetime.combine(day, circuit.opens_at)
    span = dt.datetime.combine(day, circuit.closes_at) - start
    step = span / len(group)
    return [(s.division, (start + step * i).time().replace(second=0, microsecond=0)) for i, s in enumerate(group)]


def create_circuit(*, site: Any, name: str = "", starts_on: dt.date, cycle_days: int, opens_at: dt.time,
                   closes_at: dt.time, villages: Sequence[Any], planned_doses: int = 0,
                   products: Iterable[Any] = (), acting_user: Any, source: str = SOURCE) -> Circuit:
    """A mobile team's circuit: ``villages`` (Divisions or codes of the site's county) in the
    order they are visited, over ``cycle_days`` days from ``starts_on``."""
    with transaction.atomic(durable=True):
        team = _resolve_site(site, acting_user, "session.plan")
        if not villages or not isinstance(cycle_days, int) or not 1 <= cycle_days <= 60:
            raise VaxopsError("circuit_invalid")
        if closes_at <= opens_at:
            raise VaxopsError("session_hours_invalid", {"opens_at": _hhmm(opens_at), "closes_at": _hhmm(closes_at)})
        divisions = [_division(v, team) for v in villages]
        circuit = Circuit.objects.create(site=team, name=name.strip()[:120], starts_on=starts_on,
                                         cycle_days=cycle_days, opens_at=opens_at, closes_at=closes_at,
                                         planned_doses=planned_doses)
        CircuitStop.objects.bulk_create([CircuitStop(circuit=circuit, position=i + 1, division=d)
                                         for i, d in enumerate(divisions)])
        circuit.products.set(_products(products))
        audit("circuit.create", circuit, actor=acting_user, source=source, county_code=team.county_code,
              after={"site": team.code, "villages": [d.code for d in divisions], "cycle_days": cycle_days,
                     "starts_on": starts_on.isoformat()})
    return circuit


def plan_circuit(circuit: Circuit, *, start: dt.date, days: int | None = None, acting_user: Any,
                 source: str = SOURCE) -> list[Session]:
    """Outreach sessions with their stops for ``days`` days from ``start`` (default: one cycle),
    from ``circuit``; days already planned with the same hours are kept. Returns those created."""
    days = circuit.cycle_days if days is None else days
    if not isinstance(days, int) or not 1 <= days <= 366:
        raise VaxopsError("number_out_of_range", {"field": "days"})
    with transaction.atomic(durable=True):
        team = _resolve_site(circuit.site.code, acting_user, "session.plan")
        stops = list(circuit.stops.select_related("division").order_by("position"))
        products = list(circuit.products.all())
        sites = {team.code: team}
        specs = []
        for offset in range(days):
            day = start + dt.timedelta(days=offset)
            visits = circuit_day(circuit, stops, day)
            if visits:
                specs.append(_Spec({"site": team.code, "date": day, "kind": SessionKind.OUTREACH,
                                    "opens_at": circuit.opens_at, "closes_at": circuit.closes_at,
                                    "planned_doses": circuit.planned_doses, "products": products, "stops": visits},
                                   acting_user, sites))
        sessions = _create(_new_only(specs))
        audit("session.plan_circuit", circuit, actor=acting_user, source=source, county_code=team.county_code,
              after={"start": start.isoformat(), "days": days, "sessions": len(sessions),
                     "ids": [s.pk for s in sessions]})
    return sessions


# --- the state machine -----------------------------------------------------------------------


def _locked(sessions: Sequence[Any], user: Any, action: str) -> list[Session]:
    ids = sorted({s.pk if isinstance(s, Session) else int(s) for s in sessions})
    rows = {s.pk: s for s in Session.objects.select_for_update(of=("self",) if _of() else ())
            .select_related("site__division").filter(pk__in=ids).order_by("pk")}
    out = []
    for pk in ids:
        row = rows.get(pk)
        check_scoped(user, action, Session, None if row is None else _session_row(row),
                     not_found="session_not_found", detail={"session_id": pk})
        out.append(row)
    return out


def _of() -> bool:
    from django.db import connection

    return connection.features.has_select_for_update_of


def _check_can_open(session: Session) -> None:
    if session.status == SessionStatus.OPEN:
        raise VaxopsError("session_already_open", {"session_id": session.pk})
    if session.status == SessionStatus.CLOSED:
        raise VaxopsError("session_closed", {"session_id": session.pk})


def _readiness():
    from vaxops.staff import readiness

    return readiness


def _refusal(session: Session, missing: list[str]) -> VaxopsError:
    return VaxopsError("readiness_incomplete", {"session_id": session.pk, "missing": list(missing),
                                                "missing_count": len(missing)})


def _audit_refusal(sessions: list[Session], error: VaxopsError, user: Any, source: str) -> None:
    """A refused opening is recorded (the county sees who tried to open an unready session);
    nothing else is written."""
    with transaction.atomic():
        for session in sessions:
            audit("session.open_refused", session, actor=user, source=source, county_code=session.site.county_code,
                  after={"code": error.code, "missing": error.detail.get("missing", [])})


def open_session(session: Any, *, acting_user: Any, at: dt.datetime | None = None,
                 source: str = SOURCE) -> Session:
    """Planned → open, once the medical-assurance checklist is complete (or the county command
    granted a written exception): else 409 ``readiness_incomplete`` with the missing items."""
    at = at or timezone.now()
    refused: VaxopsError | None = None
    try:
        with transaction.atomic(durable=True):
            session = _locked([session], acting_user, "session.open")[0]
            _check_can_open(session)
            readiness = _readiness()
            missing = list(readiness.missing_items(session) or [])
            exception = readiness.exception_for(session) if missing else None
            if missing and exception is None:
                refused = _refusal(session, missing)
                raise refused
            _open([session], acting_user, at)
            audit("session.open", session, actor=acting_user, source=source, county_code=session.site.county_code,
                  before={"status": SessionStatus.PLANNED},
                  after={"status": SessionStatus.OPEN, "at": at.isoformat(), "exception": exception is not None,
                         "missing": missing})
    except VaxopsError as exc:
        if exc is refused:
            _audit_refusal([session], exc, acting_user, source)
        raise
    return session


def _open(sessions: list[Session], user: Any, at: dt.datetime) -> None:
    Session.objects.filter(pk__in=[s.pk for s in sessions]).update(
        status=SessionStatus.OPEN, opened_at=at, opened_by=user if getattr(user, "pk", None) else None)
    for s in sessions:
        s.status, s.opened_at, s.opened_by_id = SessionStatus.OPEN, at, getattr(user, "pk", None)
    _changed()


def open_sessions(sessions: Sequence[Any], *, acting_user: Any, at: dt.datetime | None = None,
                  source: str = SOURCE) -> list[Session]:
    """``open_session`` for many sessions, all or none, with one audit event (the demo's days)."""
    at = at or timezone.now()
    refused: VaxopsError | None = None
    rows: list[Session] = []
    try:
        with transaction.atomic(durable=True):
            rows = _locked(sessions, acting_user, "session.open")
            for s in rows:
                _check_can_open(s)
            readiness = _readiness()
            bulk = getattr(readiness, "missing_for", None)
            if bulk is not None:
                missing = bulk(rows) or {}
            else:
                missing = {s.pk: readiness.missing_items(s) for s in rows}
            excepted = []
            for s in rows:
                items = list(missing.get(s.pk) or [])
                if items:
                    if readiness.exception_for(s) is None:
                        refused = _refusal(s, items)
                        raise refused
                    excepted.append(s.pk)
            if rows:
                _open(rows, acting_user, at)
                counties = {s.site.county_code for s in rows}
                audit("session.open_many", rows[0], actor=acting_user, source=source,
                      county_code=counties.pop() if len(counties) == 1 else "",
                      after={"status": SessionStatus.OPEN, "at": at.isoformat(), "sessions": len(rows),
                             "ids": [s.pk for s in rows][:1000], "exceptions": excepted})
    except VaxopsError as exc:
        if exc is refused:
            _audit_refusal([s for s in rows if s.pk == exc.detail["session_id"]], exc, acting_user, source)
        raise
    return rows


def session_figures(session: Session, *, wastage_doses: int = 0, vials_closed: int = 0) -> dict[str, Any]:
    """The session's figures: doses given in it (valid records linked to it), by product and
    dose number, the open-vial wastage written off at its close, and what the other apps
    registered (``vaxops.sites.figures``)."""
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    rows = (DoseRecord.objects.filter(session_id=session.pk, status=DoseStatus.VALID).order_by()
            .values("product__code").annotate(n=Count("id"), first=Count("id", filter=Q(dose_number=1))))
    by_product = {r["product__code"]: r["n"] for r in rows}
    out = {
        "doses": sum(by_product.values()),
        "first_doses": sum(r["first"] for r in rows),
        "doses_by_product": by_product,
        "planned_doses": session.planned_doses,
        "wastage_doses": wastage_doses,
        "vials_closed": vials_closed,
    }
    out.update(figures_registry.contributed(session))
    return out


def close_session(session: Any, *, acting_user: Any, at: dt.datetime | None = None,
                  source: str = SOURCE) -> Session:
    """Open → closed: the open vials the site opened that day are closed and their unused doses
    written off (``supply.dosestock.write_off_session_vials``), and the final figures are
    written, in one transaction with one audit event; the closing steps other apps register
    (``sites.closing``, e.g. no-shows) run in it too."""
    return close_sessions([session], acting_user=acting_user, at=at, source=source)[0]


def close_sessions(sessions: Sequence[Any], *, acting_user: Any, at: dt.datetime | None = None,
                   source: str = SOURCE) -> list[Session]:
    """``close_session`` for many sessions (in id order) in one transaction: one refusal closes
    none. One ``session.close`` event per session."""
    from vaxops.supply.dosestock import write_off_session_vials

    at = at or timezone.now()
    out = []
    with transaction.atomic(durable=True):
        for session in _locked(sessions, acting_user, "session.close"):
            if session.status == SessionStatus.PLANNED:
                raise VaxopsError("session_not_yet_open", {"session_id": session.pk})
            if session.status == SessionStatus.CLOSED:
                raise VaxopsError("session_closed", {"session_id": session.pk})
            _event, vials, doses = write_off_session_vials(session.site, session.date, at=at, user=acting_user)
            closing.run(session, at, acting_user)
            figures = session_figures(session, wastage_doses=doses, vials_closed=vials)
            Session.objects.filter(pk=session.pk).update(
                status=SessionStatus.CLOSED, closed_at=at, figures=figures,
                closed_by=acting_user if getattr(acting_user, "pk", None) else None)
            session.status, session.closed_at, session.figures = SessionStatus.CLOSED, at, figures
            session.closed_by_id = getattr(acting_user, "pk", None)
            audit("session.close", session, actor=acting_user, source=source, county_code=session.site.county_code,
                  before={"status": SessionStatus.OPEN},
                  after={"status": SessionStatus.CLOSED, "at": at.isoformat(), "figures": figures})
            out.append(session)
        _changed()
    return out


def open_session_of(site: Any, day: dt.date) -> Session | None:
    """``site``'s open session on ``day`` (the earliest by opening time), or ``None``."""
    site_id = site.pk if isinstance(site, Site) else site
    return (Session.objects.select_related("site__division")
            .filter(site_id=site_id, date=day, status=SessionStatus.OPEN).order_by("opens_at", "pk").first())


def today(at: dt.datetime | None = None) -> dt.date:
    """The campaign's day (its time zone) of ``at`` (default now)."""
    return (at or timezone.now()).astimezone(TZ).date()
