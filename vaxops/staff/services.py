"""The writers of staff facts: units, staff, qualifications, rosters, planned staffing and
support deployments (docs/staff.md). Each is one transaction with one audit event; each checks
the acting user's right and area first, and a refusal writes nothing.

The readiness checklist's writers are in ``vaxops.staff.readiness``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import Q

from vaxops.access.scope import check_scoped, get_scoped, require, restrict
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.regions.models import Division, Level
from vaxops.sites.models import Session, SessionStatus, Site
from vaxops.staff import reference
from vaxops.staff.models import (
    HOSPITAL_KINDS,
    Deployment,
    Qualification,
    RosterEntry,
    Staff,
    StaffingPlan,
    Unit,
    UnitKind,
)

PHONE = re.compile(r"1\d{10}")
MAX_PLANNED_STAFF = 10_000
MAX_DEPLOYMENT_DAYS = 366
BULK_CHUNK = 1000


# --- reading within the user's area ------------------------------------------------------------


def scoped_session(user: Any, action: str, session_id: int, *, lock: bool = False) -> Session:
    """The session ``session_id`` if its site is in the user's area for ``action``, else
    ``session_not_found`` (``permission_denied`` for a role that may not act at all)."""
    qs = Session.objects.select_related("site__division")
    if lock and connection.vendor == "postgresql":
        qs = qs.select_for_update(of=("self",))
    session = qs.filter(pk=session_id).first()
    check_session(user, action, session)
    return session  # type: ignore[return-value]


def check_session(user: Any, action: str, session: Session | None) -> None:
    """``check_scoped`` for a session the caller holds: it sits at its site."""
    row = None
    if session is not None:
        site = session.site
        row = {"pk": site.pk, "division__path": site.division.path}
    check_scoped(user, action, Site, row, not_found="session_not_found",
                 detail={"session": session.pk if session else None})


def visible_staff(user: Any, action: str = "staff.view"):
    """The staff of the user's area and the staff deployed to it (the receiving county sees them)."""
    own = restrict(Staff.objects.all(), user, action).values("pk")
    deployed = restrict(Deployment.objects.all(), user, action).values("staff")
    return Staff.objects.filter(Q(pk__in=own) | Q(pk__in=deployed))


def session_hours(session: Session) -> float:
    """The session's opening hours (the checklist data's default day when the times are missing)."""
    if session.opens_at and session.closes_at:
        start = dt.datetime.combine(session.date, session.opens_at)
        end = dt.datetime.combine(session.date, session.closes_at)
        if end > start:
            return round((end - start).total_seconds() / 3600, 2)
    return float(reference.checklist().item("observation_seats").rule["default_session_hours"])


def staff_hours(session: Session) -> dict[str, Any]:
    """The closing figure of a session: rostered staff × its hours."""
    rostered = RosterEntry.objects.filter(session=session).count()
    hours = session_hours(session)
    return {"staff_hours": round(rostered * hours, 2), "rostered_staff": rostered}


# --- units and staff ---------------------------------------------------------------------------


def _division(user: Any, code: str, action: str) -> Division:
    return get_scoped(Division.objects.all(), user, action, not_found="division_not_found",
                      detail={"division_code": code}, code=code)


def _unit_fields(code: Any, name_zh: Any, name_en: Any, kind: Any, hospital_level: Any) -> dict[str, Any]:
    code = (code or "").strip() if isinstance(code, str) else ""
    name_zh = " ".join(name_zh.split()) if isinstance(name_zh, str) else ""
    name_en = " ".join(name_en.split()) if isinstance(name_en, str) else ""
    if not code or len(code) > 32 or not name_zh or len(name_zh) > 120 or len(name_en) > 120:
        raise VaxopsError("unit_name_required")
    if kind not in UnitKind.values:
        raise VaxopsError("unknown_unit_kind", {"kind": str(kind)[:40]})
    if kind in HOSPITAL_KINDS:
        if hospital_level is not None and (isinstance(hospital_level, bool) or hospital_level not in (1, 2, 3)):
            raise VaxopsError("invalid_hospital_level")
    elif hospital_level is not None:
        raise VaxopsError("invalid_hospital_level")
    return {"code": code, "name_zh": name_zh, "name_en": name_en, "kind": kind, "hospital_level": hospital_level}


def create_unit(*, code: str, name_zh: str, kind: str, division_code: str, name_en: str = "",
                hospital_level: int | None = None, acting_user: Any, source: str = Source.CLI) -> Unit:
    """A home unit in a division of the user's area; a hospital may carry its level (1–3)."""
    require(acting_user, "staff.manage")
    fields = _unit_fields(code, name_zh, name_en, kind, hospital_level)
    division = _division(acting_user, division_code, "staff.manage")
    with transaction.atomic(durable=True):
        if Unit.objects.filter(code=fields["code"]).exists():
            raise VaxopsError("unit_exists", {"unit": fields["code"]})
        unit = Unit.objects.create(**fields, division=division, county_code=division.county_code)
        audit("staff.unit.create", unit, actor=acting_user, source=source, county_code=unit.county_code,
              after={"code": unit.code, "kind": unit.kind, "hospital_level": unit.hospital_level,
                     "division": division.code})
    return unit


def _staff_fields(row: dict[str, Any]) -> dict[str, Any]:
    name = row.get("name")
    name = " ".join(name.split()) if isinstance(name, str) else ""
    if not name or len(name) > 64 or any(ord(c) < 32 for c in name):
        raise VaxopsError("invalid_staff_name")
    role = row.get("role")
    if role not in reference.roles():
        raise VaxopsError("unknown_staff_role", {"role": str(role)[:40]})
    phone = row.get("phone") or ""
    if not isinstance(phone, str) or (phone and not PHONE.fullmatch(phone)):
        raise VaxopsError("invalid_phone")
    return {"name": name, "role": role, "phone": phone}


def _units(user: Any, codes: Iterable[str]) -> dict[str, Unit]:
    codes = {c for c in codes if isinstance(c, str)}
    found = {u.code: u for u in restrict(Unit.objects.filter(code__in=codes), user, "staff.manage")}
    return found


def create_staff(*, name: str, role: str, unit_code: str, phone: str = "", user: Any = None, acting_user: Any,
                 source: str = Source.CLI) -> Staff:
    """A staff member of a unit in the user's area (optionally linked to a user account)."""
    require(acting_user, "staff.manage")
    fields = _staff_fields({"name": name, "role": role, "phone": phone})
    unit = _units(acting_user, [unit_code]).get(unit_code)
    if unit is None:
        raise VaxopsError("unit_not_found", {"unit": str(unit_code)[:32]})
    with transaction.atomic(durable=True):
        staff = Staff.objects.create(**fields, unit=unit, user=user)
        audit("staff.create", staff, actor=acting_user, source=source, county_code=unit.county_code,
              after={"name": staff.name, "role": staff.role, "unit": unit.code})
    return staff


def create_staff_many(rows: Sequence[dict[str, Any]], *, acting_user: Any, source: str = Source.CLI) -> list[Staff]:
    """Many staff at once (``rows``: ``{name, role, unit_code, phone?}``), the same rules as
    ``create_staff``; all or nothing, one audit event."""
    require(acting_user, "staff.manage")
    if not rows:
        return []
    cleaned = [_staff_fields(r) for r in rows]
    units = _units(acting_user, (r.get("unit_code") for r in rows))
    missing = sorted({str(r.get("unit_code"))[:32] for r in rows if r.get("unit_code") not in units})
    if missing:
        raise VaxopsError("unit_not_found", {"unit": ", ".join(missing[:10])})
    with transaction.atomic(durable=True):
        objs = [Staff(**c, unit=units[r["unit_code"]]) for c, r in zip(cleaned, rows, strict=True)]
        created = Staff.objects.bulk_create(objs, batch_size=BULK_CHUNK)
        first = created[0]
        audit("staff.create_many", first, actor=acting_user, source=source, county_code=first.unit.county_code,
              after={"count": len(created), "units": sorted({u.code for u in units.values()})})
    return created


def get_staff(user: Any, staff_id: int, action: str = "staff.view") -> Staff:
    return get_scoped(Staff.objects.select_related("unit"), user, action, not_found="staff_not_found",
                      detail={"staff": staff_id}, pk=staff_id)


def add_qualification(staff: Staff | int, *, kind: str, valid_until: dt.date, product_code: str | None = None,
                      acting_user: Any, source: str = Source.CLI) -> Qualification:
    """A qualification of a staff member in the user's area (a training per product where the
    kind says so), valid until the given day inclusive."""
    return add_qualifications([{"staff": staff, "kind": kind, "valid_until": valid_until,
                                "product_code": product_code}], acting_user=acting_user, source=source)[0]


def add_qualifications(specs: Sequence[dict[str, Any]], *, acting_user: Any,
                       source: str = Source.CLI) -> list[Qualification]:
    """``add_qualification`` for many at once (each spec: ``staff``, ``kind``, ``valid_until``,
    ``product_code``), with the same rules, in one transaction: one refusal writes nothing. One
    ``staff.qualification.add`` audit event per qualification, as ``add_qualification`` writes."""
    from vaxops.catalog.models import Product

    require(acting_user, "staff.manage")
    kinds = reference.qualification_kinds()
    codes = {spec.get("product_code") for spec in specs if spec.get("product_code")}
    products = {p.code: p for p in Product.objects.filter(code__in=[c for c in codes if isinstance(c, str)])}
    rows = []
    for spec in specs:
        kind, valid_until, product_code = spec.get("kind"), spec.get("valid_until"), spec.get("product_code")
        kind_spec = kinds.get(kind)
        if kind_spec is None:
            raise VaxopsError("unknown_qualification_kind", {"kind": str(kind)[:40]})
        if not isinstance(valid_until, dt.date):
            raise VaxopsError("invalid_request", {"field": "valid_until"})
        product = None
        if kind_spec["per_product"]:
            if not product_code:
                raise VaxopsError("qualification_product_required")
            product = products.get(product_code) if isinstance(product_code, str) else None
            if product is None:
                raise VaxopsError("product_not_found", {"product": str(product_code)[:32]})
        elif product_code:
            raise VaxopsError("qualification_product_not_applicable")
        staff = spec.get("staff")
        rows.append((staff.pk if isinstance(staff, Staff) else staff, kind, product, product_code, valid_until))
    ids = sorted({r[0] for r in rows if isinstance(r[0], int) and not isinstance(r[0], bool)})
    members = {m.pk: m for m in restrict(Staff.objects.select_related("unit"), acting_user, "staff.manage")
               .filter(pk__in=ids)}
    for staff_id, *_rest in rows:
        if staff_id not in members:
            get_staff(acting_user, staff_id if isinstance(staff_id, int) else 0, "staff.manage")  # raises
    created = []
    with transaction.atomic(durable=True):
        for staff_id, kind, product, product_code, valid_until in rows:
            member = members[staff_id]
            q = Qualification.objects.create(staff=member, kind=kind, product=product, valid_until=valid_until)
            audit("staff.qualification.add", q, actor=acting_user, source=source, county_code=member.unit.county_code,
                  after={"staff": member.pk, "kind": kind, "product": product_code,
                         "valid_until": valid_until.isoformat()})
            created.append(q)
    return created


# --- rosters -----------------------------------------------------------------------------------


def covering_deployments(county_code: str, day: dt.date, site_id: int | None = None):
    """Deployments to ``county_code`` that cover ``day`` (to the whole county or division, or to
    ``site_id`` itself)."""
    qs = Deployment.objects.filter(to_county_code=county_code, starts_on__lte=day, ends_on__gte=day)
    if site_id is not None:
        qs = qs.filter(Q(to_site__isnull=True) | Q(to_site_id=site_id))
    return qs


def _staff_ids(staff_ids: Any) -> list[int]:
    if not isinstance(staff_ids, list | tuple) or any(
            isinstance(i, bool) or not isinstance(i, int) or i < 1 or i > 2**63 - 1 for i in staff_ids):
        raise VaxopsError("invalid_request", {"field": "staff"})
    return list(dict.fromkeys(staff_ids))


def set_roster(session: Session | int, staff_ids: Sequence[int], *, acting_user: Any,
               roles: dict[int, str] | None = None, planned_staff: int | None = None,
               source: str = Source.CLI) -> list[RosterEntry]:
    """Replace a session's roster with ``staff_ids`` (each takes their own role there unless
    ``roles`` names another). Staff from outside the session's county need a deployment to it
    covering the session's day (422 ``staff_not_deployed``). ``planned_staff`` also sets the
    session's planned staffing. Refused for a closed session."""
    session_id = session.pk if isinstance(session, Session) else session
    set_rosters({session_id: staff_ids}, acting_user=acting_user, roles=roles, planned_staff=planned_staff,
                source=source)
    return list(RosterEntry.objects.filter(session_id=session_id).select_related("staff__unit"))


def set_rosters(rosters: dict[Session | int, Sequence[int]], *, acting_user: Any,
                roles: dict[int, str] | None = None, planned_staff: int | None = None,
                source: str = Source.CLI) -> None:
    """``set_roster`` for many sessions at once ({session: staff ids}), with the same rules, in
    one transaction: one refusal (of any session) writes nothing. One ``staff.roster.set``
    audit event per session, as ``set_roster`` writes."""
    require(acting_user, "roster.manage")
    wanted = {(s.pk if isinstance(s, Session) else s): _staff_ids(ids) for s, ids in rosters.items()}
    roles = roles or {}
    for role in roles.values():
        if role not in reference.roles():
            raise VaxopsError("unknown_staff_role", {"role": str(role)[:40]})
    if planned_staff is not None and (isinstance(planned_staff, bool) or not isinstance(planned_staff, int)
                                      or not 0 <= planned_staff <= MAX_PLANNED_STAFF):
        raise VaxopsError("invalid_planned_staff", {"limit": MAX_PLANNED_STAFF})
    if not wanted:
        return
    with transaction.atomic(durable=True):
        qs = Session.objects.select_related("site__division")
        if connection.vendor == "postgresql":
            qs = qs.select_for_update(of=("self",))
        found = {x.pk: x for x in qs.filter(pk__in=sorted(wanted)).order_by("pk")}
        for session_id in wanted:
            check_session(acting_user, "roster.manage", found.get(session_id))
            if found[session_id].status == SessionStatus.CLOSED:
                raise VaxopsError("roster_session_closed")
        all_ids = sorted({i for ids in wanted.values() for i in ids})
        members = {m.pk: m for m in Staff.objects.filter(pk__in=all_ids).select_related("unit")}
        unknown = [i for i in all_ids if i not in members]
        if unknown:
            raise VaxopsError("unknown_staff", {"staff": unknown[:20]})
        for session_id, ids in wanted.items():
            s = found[session_id]
            county = s.site.county_code
            outside = [i for i in ids if members[i].unit.county_code != county]
            if outside:
                deployed = set(covering_deployments(county, s.date, s.site_id).filter(staff__in=outside)
                               .values_list("staff", flat=True))
                refused = [i for i in outside if i not in deployed]
                if refused:
                    raise VaxopsError("staff_not_deployed", {
                        "staff": refused[:20], "names": "、".join(members[i].name for i in refused[:10]),
                        "date": s.date.isoformat()})
        existing: dict[int, dict[int, RosterEntry]] = {session_id: {} for session_id in wanted}
        for e in RosterEntry.objects.filter(session_id__in=list(wanted)):
            existing[e.session_id][e.staff_id] = e
        gone, changed, new, events = [], [], [], []
        for session_id, ids in wanted.items():
            s, kept = found[session_id], existing[session_id]
            keep = set(ids)
            gone += [e.pk for staff_id, e in kept.items() if staff_id not in keep]
            for staff_id, e in kept.items():
                if staff_id not in keep:
                    continue
                role = roles.get(staff_id, members[staff_id].role)
                if role != e.role:
                    e.role = role
                    changed.append(e)
            new += [RosterEntry(session=s, staff=members[i], role=roles.get(i, members[i].role))
                    for i in ids if i not in kept]
            after: dict[str, Any] = {"staff": sorted(ids)}
            if planned_staff is not None:
                after["planned_staff"] = planned_staff
            events.append((s, {"staff": sorted(kept)}, after))
        if gone:
            RosterEntry.objects.filter(pk__in=gone).delete()
        if changed:
            RosterEntry.objects.bulk_update(changed, ["role"])
        RosterEntry.objects.bulk_create(new, batch_size=BULK_CHUNK)
        if planned_staff is not None:
            for session_id in wanted:
                StaffingPlan.objects.update_or_create(session_id=session_id, defaults={"planned_staff": planned_staff})
        for s, before, after in events:
            audit("staff.roster.set", s, actor=acting_user, source=source, county_code=s.site.county_code,
                  before=before, after=after)


def set_planned_staff(session: Session | int, planned_staff: int, *, acting_user: Any,
                      source: str = Source.CLI) -> StaffingPlan:
    """The number of staff a session is planned to have."""
    require(acting_user, "roster.manage")
    if isinstance(planned_staff, bool) or not isinstance(planned_staff, int) or not (
            0 <= planned_staff <= MAX_PLANNED_STAFF):
        raise VaxopsError("invalid_planned_staff", {"limit": MAX_PLANNED_STAFF})
    session_id = session.pk if isinstance(session, Session) else session
    with transaction.atomic(durable=True):
        s = scoped_session(acting_user, "roster.manage", session_id, lock=True)
        plan, _ = StaffingPlan.objects.update_or_create(session=s, defaults={"planned_staff": planned_staff})
        audit("staff.staffing_plan.set", plan, actor=acting_user, source=source, county_code=s.site.county_code,
              after={"session": s.pk, "planned_staff": planned_staff})
    return plan


# --- deployments -------------------------------------------------------------------------------


def deploy(staff_ids: Sequence[int], *, to_division: Division | str, starts_on: dt.date, ends_on: dt.date,
           reason: str, acting_user: Any, to_site: Site | str | None = None,
           source: str = Source.CLI) -> Deployment:
    """Deploy staff of the user's area to a county (or a place within one, or one site of it)
    from ``starts_on`` to ``ends_on`` inclusive; their sessions there may then roster them."""
    require(acting_user, "deployment.manage")
    ids = _staff_ids(list(staff_ids) if not isinstance(staff_ids, list | tuple) else staff_ids)
    if not ids:
        raise VaxopsError("deployment_staff_required")
    reason = " ".join(reason.split()) if isinstance(reason, str) else ""
    if not reason or len(reason) > 500:
        raise VaxopsError("deployment_reason_required")
    if not (isinstance(starts_on, dt.date) and isinstance(ends_on, dt.date)) or ends_on < starts_on or (
            ends_on - starts_on).days >= MAX_DEPLOYMENT_DAYS:
        raise VaxopsError("deployment_dates_invalid", {"limit": MAX_DEPLOYMENT_DAYS})
    code = to_division.code if isinstance(to_division, Division) else to_division
    division = Division.objects.filter(code=code).first() if isinstance(code, str) else None
    if division is None:
        raise VaxopsError("division_not_found", {"division_code": str(code)[:16]})
    if division.level < Level.COUNTY:
        raise VaxopsError("deployment_target_too_coarse")
    site = None
    if to_site is not None:
        site_code = to_site.code if isinstance(to_site, Site) else to_site
        site = Site.objects.select_related("division").filter(code=site_code).first()
        if site is None:
            raise VaxopsError("site_not_found", {"site": str(site_code)[:32]})
        if not site.division.path.startswith(division.path):
            raise VaxopsError("deployment_site_outside")
    members = list(restrict(Staff.objects.filter(pk__in=ids), acting_user, "deployment.manage"))
    found = {m.pk for m in members}
    unknown = [i for i in ids if i not in found]
    if unknown:
        raise VaxopsError("unknown_staff", {"staff": unknown[:20]})
    with transaction.atomic(durable=True):
        deployment = Deployment.objects.create(
            to_division=division, to_site=site, to_county_code=division.county_code, starts_on=starts_on,
            ends_on=ends_on, reason=reason, created_by=acting_user if getattr(acting_user, "pk", None) else None)
        deployment.staff.add(*members)
        audit("staff.deploy", deployment, actor=acting_user, source=source, county_code=division.county_code,
              after={"staff": sorted(found), "to_division": division.code, "to_site": site.code if site else None,
                     "starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat(), "reason": reason})
    return deployment
