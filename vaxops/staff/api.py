"""Staff, rosters, deployments and the readiness checklist: /api/v1 (docs/staff.md).

Thin: every read goes through ``vaxops.access.scope``, every write is one service of
``vaxops.staff.services`` or ``vaxops.staff.readiness``; errors are the services'
``{code, message, detail}``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Prefetch
from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.core.openapi import OPERATIONS
from vaxops.core.schema import Day, RowId
from vaxops.regions.models import Division
from vaxops.registry.api import ErrorOut
from vaxops.staff import readiness, reference, services
from vaxops.staff.models import Deployment, Qualification, RosterEntry, Staff, StaffingPlan
from vaxops.staff.presenters import checklist_of, deployment_out, exception_out, staff_out

router = Router(tags=["staff"])
sessions_router = Router(tags=["staff"])
deployments_router = Router(tags=["staff"])

ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas -----------------------------------------------------------------------------------


class QualificationOut(Schema):
    kind: str
    kind_name: str
    product: str | None
    product_name: str | None
    valid_until: dt.date


class StaffOut(Schema):
    id: int
    name: str
    role: str = Field(description="doctor | nurse | vaccinator | registrar | observer | driver | volunteer | "
                      "police_liaison (data/roles.json)")
    role_name: str
    unit: str
    unit_name: str
    unit_kind: str
    hospital_level: int | None = Field(description="1, 2 or 3 for a hospital (一级/二级/三级); null otherwise.")
    county_code: str
    phone: str
    qualifications: list[QualificationOut]


class StaffList(Schema):
    items: list[StaffOut]
    count: int
    limit: int
    offset: int


class StaffIn(Schema):
    name: str = Field(max_length=64)
    role: str = Field(max_length=24)
    unit: str = Field(max_length=32, description="The code of the home unit.")
    phone: str | None = Field(None, max_length=11)


class StaffQuery(Schema):
    unit: str | None = Field(None, max_length=32)
    role: str | None = Field(None, max_length=24)
    limit: int = Field(200, ge=1, le=1000)
    offset: int = Field(0, ge=0, le=10_000_000)


class QualificationIn(Schema):
    kind: str = Field(max_length=32)
    product: str | None = Field(None, max_length=32, description="Required for a training held per vaccine.")
    valid_until: Day


class RosterIn(Schema):
    staff: list[RowId] = Field(max_length=2000)
    roles: dict[str, str] | None = Field(None, description="Staff id -> the role at this session (default: their own).")
    planned_staff: int | None = Field(None, ge=0, le=services.MAX_PLANNED_STAFF)


class RosterMemberOut(Schema):
    id: int
    name: str
    role: str
    role_name: str
    unit: str
    unit_name: str
    deployed: bool = Field(description="From outside the session's county, on a deployment to it.")


class RosterOut(Schema):
    session: int
    staff: list[RosterMemberOut]
    planned_staff: int | None
    staff_hours: float


class ReadinessIn(Schema):
    items: dict[str, Any] = Field(description="Item code -> value, e.g. {\"cold_chain_reading\": 4.5}.")


class ReadinessOut(Schema):
    complete: bool
    missing: list[str]
    reasons: dict[str, dict[str, Any]] = Field(description="Item code -> why it is missing.")


class ChecklistItemOut(Schema):
    code: str
    name: str
    computed: bool = Field(description="Worked out from the roster; not entered.")
    ok: bool
    reason: str | None
    reason_text: str
    value: Any = None


class ExceptionOut(Schema):
    session: int
    reason: str
    missing: list[str]
    granted_by: str
    granted_at: dt.datetime


class ChecklistOut(Schema):
    session: int
    complete: bool
    missing: list[str]
    items: list[ChecklistItemOut]
    recorded_at: dt.datetime | None
    recorded_by: str | None
    exception: ExceptionOut | None


class ExceptionIn(Schema):
    reason: str = Field(max_length=2000)


class DeploymentIn(Schema):
    staff: list[RowId] = Field(min_length=1, max_length=2000)
    to_division: str = Field(max_length=16, description="The receiving county (or a division within it).")
    to_site: str | None = Field(None, max_length=32, description="One site of that division, optionally.")
    starts_on: Day
    ends_on: Day
    reason: str = Field(max_length=1000)


class DeploymentStaffOut(Schema):
    id: int
    name: str
    role: str
    role_name: str
    unit: str
    unit_name: str


class DeploymentOut(Schema):
    id: int
    to_division: str
    to_division_name: str
    to_site: str | None
    to_site_name: str | None
    starts_on: dt.date
    ends_on: dt.date
    reason: str
    staff: list[DeploymentStaffOut]
    from_units: list[str]
    count: int


class DeploymentList(Schema):
    items: list[DeploymentOut]
    count: int


class DeploymentQuery(Schema):
    division: str | None = Field(None, max_length=16, description="Deployments to this division or below it.")
    on: Day | None = Field(None, description="Deployments covering this day.")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


# --- staff -------------------------------------------------------------------------------------


def _with_qualifications(qs):
    return qs.select_related("unit").prefetch_related(
        Prefetch("qualifications", queryset=Qualification.objects.select_related("product")))


@router.post("", response={201: StaffOut, **ERRORS})
def create_staff(request, payload: StaffIn):
    """Add a staff member to a unit of your area (the county command, a site manager for their
    site's county, the administrator)."""
    member = services.create_staff(name=payload.name, role=payload.role, unit_code=payload.unit,
                                   phone=payload.phone or "", acting_user=request.user, source=Source.API)
    return Status(201, staff_out(_with_qualifications(Staff.objects.filter(pk=member.pk)).get()))


@router.get("", response={200: StaffList, **READ_ERRORS})
def list_staff(request, query: Query[StaffQuery]):
    """The staff of your area and those deployed to it, by unit and name, with their
    qualifications and expiry; ``unit`` and ``role`` narrow the list."""
    require(request.user, "staff.view")
    qs = services.visible_staff(request.user)
    if query.unit:
        qs = qs.filter(unit__code=query.unit)
    if query.role:
        qs = qs.filter(role=query.role)
    qs = qs.order_by("unit__code", "name", "pk")
    total = qs.count()
    page = _with_qualifications(qs)[query.offset:query.offset + query.limit]
    return {"items": [staff_out(s) for s in page], "count": total, "limit": query.limit, "offset": query.offset}


@router.post("/{staff_id}/qualifications", response={201: StaffOut, **ERRORS})
def add_qualification(request, staff_id: RowId, payload: QualificationIn):
    """Add a qualification (a training for a vaccine, emergency resuscitation …) valid until a day."""
    services.add_qualification(staff_id, kind=payload.kind, product_code=payload.product,
                               valid_until=payload.valid_until, acting_user=request.user, source=Source.API)
    return Status(201, staff_out(_with_qualifications(Staff.objects.filter(pk=staff_id)).get()))


# --- rosters and readiness ---------------------------------------------------------------------


def roster_out(session) -> dict[str, Any]:
    entries = list(RosterEntry.objects.filter(session=session).select_related("staff__unit").order_by("role", "staff__name"))
    plan = StaffingPlan.objects.filter(session=session).values_list("planned_staff", flat=True).first()
    county = session.site.county_code
    figures = services.staff_hours(session)
    return {"session": session.pk, "planned_staff": plan, "staff_hours": figures["staff_hours"], "staff": [
        {"id": e.staff_id, "name": e.staff.name, "role": e.role, "role_name": reference.role_name(e.role),
         "unit": e.staff.unit.code, "unit_name": e.staff.unit.name, "deployed": e.staff.unit.county_code != county}
        for e in entries]}


@sessions_router.put("/{session_id}/roster", response={200: RosterOut, **ERRORS})
def put_roster(request, session_id: RowId, payload: RosterIn):
    """Replace the session's roster (site manager, county command). Staff from outside the
    session's county need a deployment to it covering the day: 422 ``staff_not_deployed``."""
    roles: dict[int, str] = {}
    for key, role in (payload.roles or {}).items():
        try:
            roles[int(key)] = role
        except ValueError:
            raise VaxopsError("invalid_request", {"field": "roles"}) from None
    services.set_roster(session_id, payload.staff, roles=roles, planned_staff=payload.planned_staff,
                        acting_user=request.user, source=Source.API)
    return roster_out(services.scoped_session(request.user, "roster.manage", session_id))


@sessions_router.get("/{session_id}/roster", response={200: RosterOut, **READ_ERRORS})
def get_roster(request, session_id: RowId):
    """The session's roster, its planned staffing and its staff-hours."""
    return roster_out(services.scoped_session(request.user, "staff.view", session_id))


@sessions_router.put("/{session_id}/readiness", response={200: ReadinessOut, **ERRORS})
def put_readiness(request, session_id: RowId, payload: ReadinessIn):
    """Record checklist values for the session (its site manager): each item given replaces its
    earlier value. Answers whether the checklist is complete and which items are missing, with
    why. A value that cannot be read is 422 and nothing is written."""
    return readiness.record_readiness(session_id, payload.items, acting_user=request.user, source=Source.API)


@sessions_router.get("/{session_id}/readiness", response={200: ChecklistOut, **READ_ERRORS})
def get_readiness(request, session_id: RowId):
    """The session's checklist item by item (state, value, reason), who recorded last, and the
    county command's exception if one was granted."""
    session = services.scoped_session(request.user, "staff.view", session_id)
    return checklist_of(session)


@sessions_router.post("/{session_id}/readiness/exception", response={201: ExceptionOut, **ERRORS})
def post_exception(request, session_id: RowId, payload: ExceptionIn):
    """The county command's written exception: the session may open without a complete
    checklist. Audited, shown on the county's page; once per session."""
    exc = readiness.grant_exception(session_id, reason=payload.reason, acting_user=request.user, source=Source.API)
    return Status(201, exception_out(exc))


# --- deployments -------------------------------------------------------------------------------


def _deployments(qs):
    return qs.select_related("to_division", "to_site").prefetch_related(
        Prefetch("staff", queryset=Staff.objects.select_related("unit").order_by("name", "pk")))


@deployments_router.post("", response={201: DeploymentOut, **ERRORS})
def create_deployment(request, payload: DeploymentIn):
    """Deploy staff of your area to a county (or a division or one site within it) for days
    (the county and prefecture command)."""
    d = services.deploy(payload.staff, to_division=payload.to_division, to_site=payload.to_site,
                        starts_on=payload.starts_on, ends_on=payload.ends_on, reason=payload.reason,
                        acting_user=request.user, source=Source.API)
    return Status(201, deployment_out(_deployments(Deployment.objects.filter(pk=d.pk)).get()))


@deployments_router.get("", response={200: DeploymentList, **READ_ERRORS})
def list_deployments(request, query: Query[DeploymentQuery]):
    """Deployments to your area, latest first: who, from which units, to where, for which days."""
    require(request.user, "staff.view")
    qs = restrict(Deployment.objects.all(), request.user, "staff.view")
    if query.division:
        div = get_scoped(Division.objects.all(), request.user, "division.view", not_found="division_not_found",
                         detail={"division_code": query.division}, code=query.division)
        qs = qs.filter(to_division__path__startswith=div.path)
    if query.on:
        qs = qs.filter(starts_on__lte=query.on, ends_on__gte=query.on)
    total = qs.count()
    page = _deployments(qs.order_by("-starts_on", "pk"))[query.offset:query.offset + query.limit]
    return {"items": [deployment_out(d) for d in page], "count": total}


_SESSION = ("session_not_found",)
OPERATIONS.update({
    "vaxops_staff_api_create_staff": ("", (
        "unit_not_found", "invalid_staff_name", "unknown_staff_role", "invalid_phone")),
    "vaxops_staff_api_list_staff": ("", ()),
    "vaxops_staff_api_add_qualification": ("", (
        "staff_not_found", "unknown_qualification_kind", "qualification_product_required",
        "qualification_product_not_applicable", "product_not_found")),
    "vaxops_staff_api_put_roster": ("", (
        *_SESSION, "unknown_staff", "staff_not_deployed", "roster_session_closed", "unknown_staff_role",
        "invalid_planned_staff")),
    "vaxops_staff_api_get_roster": ("", _SESSION),
    "vaxops_staff_api_put_readiness": ("", (
        *_SESSION, "unknown_readiness_item", "readiness_item_computed", "invalid_readiness_value",
        "readiness_session_closed")),
    "vaxops_staff_api_get_readiness": ("", _SESSION),
    "vaxops_staff_api_post_exception": ("", (
        *_SESSION, "exception_reason_required", "exception_reason_too_long", "readiness_exception_exists",
        "readiness_already_complete", "exception_session_not_planned")),
    "vaxops_staff_api_create_deployment": ("", (
        "unknown_staff", "deployment_staff_required", "deployment_target_too_coarse", "deployment_dates_invalid",
        "deployment_reason_required", "deployment_site_outside", "division_not_found", "site_not_found")),
    "vaxops_staff_api_list_deployments": ("", ("division_not_found",)),
})
