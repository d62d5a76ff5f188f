"""Key groups "应种尽种": /api/v1/stats/key-groups (figures) and /api/v1/key-groups/… (the list
to reach, adding members). docs/keygroups.md.

Thin: the division is found through the access scope (``campaign.api.user_division``), the
members through ``restrict``; the one write is ``keygroups.services.add_members``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import PERMISSIONS, get_scoped, grants_for, require, restrict
from vaxops.campaign.api import user_division
from vaxops.campaign.services import TZ
from vaxops.core.models import Source
from vaxops.core.openapi import OPERATIONS
from vaxops.core.schema import Instant, RowId
from vaxops.registry.api import ErrorOut
from vaxops.staff.models import Unit

from . import services
from .models import Membership
from .stats import group_figures, in_area, not_vaccinated

stats_router = Router(tags=["key groups"])
router = Router(tags=["key groups"])
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


class GroupOut(Schema):
    code: str
    name: str = Field(description="In the request's language.")
    registered: int = Field(description="Members registered (living in the area, or of the unit).")
    contraindicated: int = Field(description="Removed: a permanent contraindication by `at`.")
    deceased: int
    moved_out: int
    removed: int = Field(description="Registered − eligible.")
    eligible: int = Field(description="应种: registered minus the removed.")
    first_dose_people: int = Field(description="Eligible members with a first dose by `at`.")
    completed_people: int = Field(description="Eligible members with a completed series by `at`.")
    not_vaccinated: int = Field(description="Eligible members still without a first dose.")
    coverage: float | None = Field(description="first_dose_people ÷ eligible (ratio, 4 decimals).")
    completed_coverage: float | None


class KeyGroupsOut(Schema):
    division_code: str
    division_name: str
    unit: str | None = Field(description="The responsible unit's code, when the figures are of one unit.")
    at: dt.datetime
    groups: list[GroupOut]


def _moment(at: dt.datetime | None) -> dt.datetime:
    when = at or timezone.now()
    return (timezone.make_aware(when, TZ) if timezone.is_naive(when) else when).astimezone(TZ)


def scoped_unit(user: Any, code: str | None, action: str) -> Unit | None:
    if not code:
        return None
    return get_scoped(Unit.objects.all(), user, action, not_found="unit_not_found", detail={"unit": code[:32]},
                      code=code)


def figures_of(user: Any, division_code: str | None, at: dt.datetime | None, unit_code: str | None = None
               ) -> dict[str, Any]:
    """The key-group figures of a division (and unit) within the user's area, as of ``at``."""
    division = user_division(user, division_code)
    unit = scoped_unit(user, unit_code, "stats.view")
    when = _moment(at)
    members = in_area(restrict(Membership.objects.all(), user, "stats.view"), division, unit)
    return {"division_code": division.code, "division_name": division.name, "unit": unit.code if unit else None,
            "at": when, "groups": group_figures(members, when), "division": division, "unit_obj": unit}


@stats_router.get("/key-groups", response={200: KeyGroupsOut, **READ_ERRORS})
def key_group_stats(request, division: str | None = None, at: Instant | None = None, unit: str | None = None):
    """Key groups of a division (default: the top of the user's area) as of `at` (default now):
    registered, removed (contraindicated, deceased, moved out), eligible (应种), first dose,
    completed and coverage; `unit` narrows to one responsible unit (a hospital, a university …)."""
    return figures_of(request.user, division, at, unit)


class MemberOut(Schema):
    id: int
    person_id: int
    name: str
    id_number_masked: str
    phone: str = Field(description="Masked except for the command and the person's own township or grid.")
    group: str
    group_name: str
    unit: str | None
    unit_name: str | None
    home_division: str = Field(description="The name of the person's home division.")
    county_code: str
    since: dt.date = Field(description="In the group from this day.")


class MembersOut(Schema):
    items: list[MemberOut]
    count: int


def full_phones(user: Any) -> bool:
    """Whether the user's list shows whole phone numbers: a division grant (the command, the
    township organiser, the grid worker: their own area's residents); site staff, who see their
    county's members, get them masked."""
    allowed = PERMISSIONS["keygroup.list"]
    return any(g.division_path is not None or g.everything for g in grants_for(user) if g.role in allowed)


def masked_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else phone


def member_out(m: Membership, full_phone: bool = True) -> dict[str, Any]:
    person = m.person
    phone = person.phone if full_phone else masked_phone(person.phone)
    return {
        "id": m.pk, "person_id": person.pk, "name": person.name, "id_number_masked": person.id_number_masked,
        "phone": phone, "group": m.group.code, "group_name": m.group.name,
        "unit": m.unit.code if m.unit else None, "unit_name": m.unit.name if m.unit else None,
        "home_division": person.home_division.name, "county_code": m.county_code, "since": m.since,
    }


def unvaccinated_of(user: Any, *, division_code: str | None, group: str | None, unit_code: str | None,
                    at: dt.datetime | None):
    """The eligible members not yet vaccinated, within the user's area (``keygroup.list``)."""
    require(user, "keygroup.list")
    division = user_division(user, division_code)
    unit = scoped_unit(user, unit_code, "keygroup.list")
    members = in_area(restrict(Membership.objects.all(), user, "keygroup.list"), division, unit)
    if group:
        members = members.filter(group__code=group)
    return division, unit, not_vaccinated(members, _moment(at))


@router.get("/not-vaccinated", response={200: MembersOut, **READ_ERRORS})
def list_not_vaccinated(request, division: str | None = None, group: str | None = None, unit: str | None = None,
                        at: Instant | None = None, limit: int = Query(100, ge=1, le=500),
                        offset: int = Query(0, ge=0, le=10**6)):
    """The eligible members of the key groups not yet vaccinated (no first dose by `at`), for a
    division (the county) and/or a responsible unit, by group, unit and name; IDs masked."""
    _division, _unit, members = unvaccinated_of(request.user, division_code=division, group=group,
                                                unit_code=unit, at=at)
    full = full_phones(request.user)
    return {"items": [member_out(m, full) for m in members[offset:offset + limit]], "count": members.count()}


class MemberIn(Schema):
    person_id: RowId
    group: str = Field(max_length=40, description="A priority group's code (medical_staff, monastics …).")
    unit: str | None = Field(None, max_length=32, description="The responsible unit's code (staff.Unit).")
    since: dt.date | None = Field(None, description="In the group from this day (not after today; default today).")


class AddedOut(Schema):
    added: int
    changed: int
    unchanged: int
    members: list[int]


@router.post("/members", response={200: AddedOut, 201: AddedOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut})
def add_member(request, payload: MemberIn):
    """Register a person in a key group (with the unit responsible for them): 201 when added,
    200 when they already were a member (the unit replaced when a new one is given)."""
    result = services.add_members([payload.dict()], acting_user=request.user, source=Source.API)
    return Status(201 if result["added"] else 200, result)


OPERATIONS.update({
    "vaxops_keygroups_api_key_group_stats": ("", ("division_not_found", "unit_not_found")),
    "vaxops_keygroups_api_list_not_vaccinated": ("", ("division_not_found", "unit_not_found")),
    "vaxops_keygroups_api_add_member": ("", ("person_not_found", "keygroup_not_found", "unit_not_found",
                                             "member_since_in_future")),
})
