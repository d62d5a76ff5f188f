"""The one way in: every read and write a user's request makes is filtered here.

A user's roles decide *what* they may do (``PERMISSIONS``); each role assignment's scope
decides *where* (a division subtree, or one site). ``restrict`` turns both into a queryset
filter for a model, so views, API endpoints and services never build area filters themselves.
Objects outside the user's area are reported as "not found", never as "forbidden", so their
existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import reduce
from operator import or_
from typing import Any, TypeVar

from django.db import models
from django.db.models import Q

from vaxops.access.models import Role, RoleAssignment
from vaxops.core.errors import VaxopsError

ALL_ROLES = frozenset(Role.values)
SITE_ROLES = frozenset({Role.SITE_MANAGER, Role.VACCINATOR})

# action -> roles that may perform it (anywhere in their scope).
PERMISSIONS: dict[str, frozenset[str]] = {
    "division.view": ALL_ROLES,
    "stats.view": ALL_ROLES,
    "site.view": ALL_ROLES,
    "lot.view": ALL_ROLES,
    "person.view": ALL_ROLES - {Role.SUPPLY_OFFICER},
    "person.add": frozenset(
        {Role.VACCINATOR, Role.SITE_MANAGER, Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER, Role.COUNTY_COMMAND,
         Role.ADMIN}
    ),
    # Vaccinating a person: residents may be vaccinated anywhere (migrants and travellers are
    # normal), so site staff reach the residents of their site's county and, for the rest of
    # the working day, anyone they found by the exact ID number ("person.lookup"); never a
    # person outside their area by a bare numeric id.
    "person.vaccinate": SITE_ROLES,
    "dose.view": ALL_ROLES - {Role.SUPPLY_OFFICER, Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER},
    "dose.add": SITE_ROLES,
    "dose.override": frozenset({Role.SITE_MANAGER}),
    "dose.void": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.ADMIN}),
    # A dose recorded more than VAXOPS_RETROSPECTIVE_HOURS after it was given (issue 6): the site
    # manager at their site, the county command at a site of their county.
    "dose.retrospective": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND}),
    # Reading the lists of overrides and retrospective entries in one's area.
    "dose.review": frozenset({Role.SUPERVISOR, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.ADMIN}),
    # Finding a person by the exact ID number on the card in hand: site staff find anyone (the
    # lookup of someone outside their area is audited, rate-limited and recorded as a reach).
    "person.lookup": SITE_ROLES,
    # Device sync (POST /api/v1/doses/batch): the site staff of the sites the doses name.
    "dose.sync": SITE_ROLES,
    # Sync conflicts (a dose N already recorded by someone else): placed at the incoming
    # submission's site; resolved by that site's manager or its county's command.
    "conflict.view": frozenset(
        {Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.SUPERVISOR, Role.ADMIN}
    ),
    "conflict.resolve": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND}),
    # Managing users, their roles and tokens, within the manager's own area.
    "user.manage": frozenset({Role.ADMIN, Role.COUNTY_COMMAND}),
    # Importing files of people and doses (docs/imports.md) and reading the import jobs of
    # one's area; each row is still decided by the engines with the importer's own rights.
    "import.run": frozenset({Role.COUNTY_COMMAND, Role.ADMIN}),
    # Supply (docs/supply.md). Seeing stores and their stock: everyone who works with vaccine.
    "stock.view": ALL_ROLES - {Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER},
    # Receipts from manufacturers, dispatch, adjustments: the supply officers of the area.
    "stock.receive_shipment": frozenset({Role.SUPPLY_OFFICER, Role.ADMIN}),
    "stock.dispatch": frozenset({Role.SUPPLY_OFFICER, Role.ADMIN}),
    # Receiving a transfer, counting, adjusting and logging temperatures: also the site manager
    # at their site.
    "stock.receive": frozenset({Role.SUPPLY_OFFICER, Role.SITE_MANAGER, Role.ADMIN}),
    "stock.adjust": frozenset({Role.SUPPLY_OFFICER, Role.SITE_MANAGER, Role.ADMIN}),
    "stock.count": frozenset({Role.SUPPLY_OFFICER, Role.SITE_MANAGER, Role.ADMIN}),
    "temperature.record": frozenset({Role.SUPPLY_OFFICER, Role.SITE_MANAGER, Role.ADMIN}),
    # Open excursions: seen by the supply officers, the command and the supervisors; reviewed
    # by the supervisors.
    "excursion.view": frozenset(
        {Role.SUPPLY_OFFICER, Role.SUPERVISOR, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.SITE_MANAGER,
         Role.ADMIN}
    ),
    "excursion.review": frozenset({Role.SUPERVISOR}),
    # Market supervision: quarantine, recall and release lots; trace them to stores and people.
    "lot.quarantine": frozenset({Role.SUPERVISOR}),
    "lot.trace": frozenset(
        {Role.SUPERVISOR, Role.SUPPLY_OFFICER, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.ADMIN}
    ),
    # The recipients of a lot (masked names with phones, for a recall notice).
    "lot.recipients": frozenset({Role.SUPERVISOR, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND}),
    # Allocations: proposed by the supply officers or the command, approved by the command.
    "allocation.propose": frozenset(
        {Role.SUPPLY_OFFICER, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.ADMIN}
    ),
    "allocation.approve": frozenset({Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.ADMIN}),
    # staff (issue 9, docs/staff.md): units, staff and qualifications, rosters, deployments and the
    # readiness gate. Seeing staff and checklists: the site manager, the command, the supervisors.
    "staff.view": frozenset(
        {Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.SUPERVISOR, Role.ADMIN}
    ),
    "staff.manage": frozenset({Role.COUNTY_COMMAND, Role.SITE_MANAGER, Role.ADMIN}),
    "roster.manage": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND}),
    "readiness.record": frozenset({Role.SITE_MANAGER}),
    # A written exception to open without a complete checklist: the county command only.
    "readiness.exception": frozenset({Role.COUNTY_COMMAND}),
    "deployment.manage": frozenset({Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND}),
    # Sessions (issue 9, sessions; docs/sessions.md): seen by everyone but the grid workers;
    # planned by the county command and the site manager (at their site); opened and closed by
    # the site manager at their site or the county command (and the administrator: the demo's
    # replayed days are opened by it).
    "session.view": ALL_ROLES - {Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER},
    "session.plan": frozenset({Role.COUNTY_COMMAND, Role.SITE_MANAGER, Role.ADMIN}),
    "session.open": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.ADMIN}),
    "session.close": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.ADMIN}),
    # visits (issue 9 §4): the visit steps by the site staff at their site; the live board and
    # its figures for the site staff, the county and prefecture command and the supervisor;
    # the what-if and the station counts behind it for the site manager and the county command.
    "visit.manage": SITE_ROLES,
    "board.view": SITE_ROLES | {Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.SUPERVISOR},
    "whatif.run": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND}),
    # safety (AEFI, docs/aefi.md): reported by the site staff, the county command and the
    # supervisors (CDC); seen by the site manager, the command, the supervisors and admins;
    # investigated, classified and acted on (clusters: quarantine of their lots) by the supervisors.
    "aefi.report": SITE_ROLES | {Role.COUNTY_COMMAND, Role.SUPERVISOR},
    "aefi.view": frozenset(
        {Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.SUPERVISOR, Role.ADMIN}
    ),
    "aefi.classify": frozenset({Role.SUPERVISOR}),
    "aefi.cluster": frozenset({Role.SUPERVISOR}),
    # Standby list for leftover doses (issue 9 §6, part standby; docs/standby.md): the site's staff
    # at their site and the county command see and run a session's list and its offers; site
    # staff and grid workers sign people up (a grid worker the residents of their grid).
    "standby.view": frozenset({Role.SITE_MANAGER, Role.VACCINATOR, Role.COUNTY_COMMAND}),
    "standby.manage": frozenset({Role.SITE_MANAGER, Role.VACCINATOR, Role.COUNTY_COMMAND}),
    "standby.sign_up": frozenset({Role.SITE_MANAGER, Role.VACCINATOR, Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER}),
    # Appointments (issue 10, appointments; docs/appointments.md): a session's slots are set by
    # its site's manager and the county command; seen by everyone who books (site staff at their
    # site, grid workers and township organisers for the sessions of their county) and the
    # command and supervisors above; bookings are made and cancelled by the site staff at their
    # site, the county command, and grid workers / township organisers for their residents.
    "slot.view": frozenset({Role.SITE_MANAGER, Role.VACCINATOR, Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER,
                            Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.SUPERVISOR, Role.ADMIN}),
    "slot.manage": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.ADMIN}),
    "appointment.view": frozenset({Role.SITE_MANAGER, Role.VACCINATOR, Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER,
                                   Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.SUPERVISOR, Role.ADMIN}),
    "appointment.book": frozenset({Role.SITE_MANAGER, Role.VACCINATOR, Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER,
                                   Role.COUNTY_COMMAND, Role.ADMIN}),
    "appointment.cancel": frozenset({Role.SITE_MANAGER, Role.VACCINATOR, Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER,
                                     Role.COUNTY_COMMAND, Role.ADMIN}),
    # key groups and targets (issue 10, targets; docs/keygroups.md, docs/targets.md): key-group
    # figures for everyone who reads figures; the list of members not yet vaccinated (names,
    # masked IDs) for those who reach them (the command, township organisers, grid workers, the
    # site manager of a hospital's site) and added to by the command and township organisers;
    # targets seen by everyone, set by the command for the divisions below them (the level
    # above: checked in targets.services).
    "keygroup.list": frozenset(
        {Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.TOWNSHIP_ORGANISER, Role.GRID_WORKER, Role.SITE_MANAGER,
         Role.ADMIN}
    ),
    "keygroup.manage": frozenset({Role.COUNTY_COMMAND, Role.TOWNSHIP_ORGANISER, Role.ADMIN}),
    "target.view": ALL_ROLES,
    "target.set": frozenset({Role.PREFECTURE_COMMAND, Role.COUNTY_COMMAND, Role.ADMIN}),
    # The daily report 日报 (issue 10, reports; docs/reports.md): read by the command, the
    # supervisors and the township organisers for their area; issued (frozen, sent upward) by the
    # county and prefecture command and the administrator.
    "report.view": frozenset(
        {Role.PREFECTURE_COMMAND, Role.COUNTY_COMMAND, Role.TOWNSHIP_ORGANISER, Role.SUPERVISOR, Role.ADMIN}
    ),
    "report.issue": frozenset({Role.PREFECTURE_COMMAND, Role.COUNTY_COMMAND, Role.ADMIN}),
    # outreach (issue 10, outreach; docs/outreach.md): work lists and roll-ups for the grid
    # workers of their grid, the township organisers of their township and the command of their
    # area; contact attempts and the person status changes they bring (moved out, deceased, a
    # duplicate merged, a permanent contraindication) by the people who do the outreach.
    "outreach.view": frozenset(
        {Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER, Role.COUNTY_COMMAND, Role.PREFECTURE_COMMAND, Role.ADMIN}
    ),
    "outreach.record": frozenset({Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER, Role.COUNTY_COMMAND, Role.ADMIN}),
    "person.status": frozenset({Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER, Role.COUNTY_COMMAND, Role.ADMIN}),
    "person.merge": frozenset({Role.GRID_WORKER, Role.TOWNSHIP_ORGANISER, Role.COUNTY_COMMAND, Role.ADMIN}),
    # Lifting a deferral (a permanent contraindication recorded in error, a fever gone): the
    # clinician's decision, taken by whoever may override at the desk (the site manager) or by
    # the county command; never by the grid worker who recorded the outcome.
    "person.lift_deferral": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.ADMIN}),
}

# role of the manager -> roles they may grant (and only within their own area).
GRANTABLE: dict[str, frozenset[str]] = {
    Role.ADMIN: ALL_ROLES,
    Role.COUNTY_COMMAND: ALL_ROLES - {Role.ADMIN, Role.PREFECTURE_COMMAND},
}


@dataclass(frozen=True)
class Grant:
    """One role assignment, reduced to what filtering needs."""

    role: str
    division_path: str | None  # a division subtree
    site_id: int | None  # or one site
    site_division_path: str | None
    site_county_code: str | None

    @property
    def everything(self) -> bool:
        return self.division_path is None and self.site_id is None


def grants_for(user: Any) -> tuple[Grant, ...]:
    """The user's role assignments, loaded once per request and cached on the user object."""
    if not getattr(user, "is_authenticated", False):
        return ()
    cached = getattr(user, "_vaxops_grants", None)
    if cached is None:
        cached = load_grants(user.pk)
        user._vaxops_grants = cached
    return cached


def load_grants(user_id: int) -> tuple[Grant, ...]:
    """The user's role assignments read from the database (one query)."""
    return tuple(
        Grant(
            role=a.role,
            division_path=a.division.path if a.division_id else None,
            site_id=a.site_id,
            site_division_path=a.site.division.path if a.site_id else None,
            site_county_code=a.site.county_code if a.site_id else None,
        )
        for a in RoleAssignment.objects.filter(user_id=user_id).select_related("division", "site__division")
    )


def can(user: Any, action: str) -> bool:
    """Whether any of the user's roles allows ``action`` somewhere."""
    allowed = PERMISSIONS[action]
    return any(g.role in allowed for g in grants_for(user))


@dataclass(frozen=True)
class _Placement:
    """Where a model's rows sit in the area tree: the lookups a grant is tested against.

    ``path`` is the lookup of the row's division path (``None``: not area-restricted);
    ``site`` and ``county`` the lookups of its site and county, when it has them; for the
    actions in ``open_for`` every row is reachable; for the actions in ``reached_by`` a row the
    user reached by exact ID today (``access.PersonReach``) is reachable too. ``site_path`` is a
    second division path (of the row's site) tested like ``path``; ``many`` marks lookups
    through a multi-valued relation (filtered as ``pk IN (…)`` so rows are not repeated).
    """

    path: str | None
    site: str | None = None
    county: str | None = None
    open_for: frozenset[str] = frozenset()
    reached_by: frozenset[str] = frozenset()
    site_path: str | None = None
    many: bool = False


# model label -> how its rows are placed; ``restrict`` and ``admits`` both read only this.
_PLACEMENTS: dict[str, _Placement] = {
    "regions.division": _Placement(path="path"),
    "campaign.dosecounter": _Placement(path="path"),
    "sites.site": _Placement(path="division__path", site="pk"),
    "vaccination.doserecord": _Placement(path="division__path", site="site_id"),
    "registry.person": _Placement(
        path="home_division__path", county="county_code", open_for=frozenset({"person.lookup"}),
        reached_by=frozenset({"person.vaccinate", "person.lift_deferral"}),
    ),
    # A user, a role assignment or a token sits where the assignment's division or site is.
    "access.roleassignment": _Placement(path="division__path", site_path="site__division__path"),
    "auth.user": _Placement(path="roles__division__path", site_path="roles__site__division__path", many=True),
    "access.apitoken": _Placement(
        path="user__roles__division__path", site_path="user__roles__site__division__path", many=True
    ),
    "vaccination.doseconflict": _Placement(path="site__division__path", site="site_id"),
    # An import job sits where its importer's area is (an everywhere importer's: nowhere else).
    "interop.importjob": _Placement(path="division__path"),
    # Lots are product-wide reference data; their stock sits in stores.
    "supply.lot": _Placement(path=None),
    "supply.store": _Placement(path="division__path", site="site_id"),
    "supply.stockbalance": _Placement(path="store__division__path", site="store__site_id"),
    "supply.stockline": _Placement(path="store__division__path", site="store__site_id"),
    # A transfer is seen from both ends; site staff see the ones coming to their site.
    "supply.transfer": _Placement(path="from_store__division__path", site_path="to_store__division__path",
                                  site="to_store__site_id"),
    "supply.temperaturereading": _Placement(path="store__division__path", site="store__site_id"),
    "supply.excursion": _Placement(path="store__division__path", site="store__site_id"),
    "supply.allocation": _Placement(path="from_store__division__path"),
    # staff (issue 9): staff sit where their home unit is (site staff see their site's county);
    # a deployment sits in the receiving division; rosters and checklists at the session's site.
    "staff.unit": _Placement(path="division__path", county="county_code"),
    "staff.staff": _Placement(path="unit__division__path", county="unit__county_code"),
    "staff.qualification": _Placement(path="staff__unit__division__path", county="staff__unit__county_code"),
    "staff.deployment": _Placement(path="to_division__path", county="to_county_code"),
    "staff.rosterentry": _Placement(path="session__site__division__path", site="session__site_id"),
    "staff.staffingplan": _Placement(path="session__site__division__path", site="session__site_id"),
    "staff.readiness": _Placement(path="session__site__division__path", site="session__site_id"),
    "staff.readinessexception": _Placement(path="session__site__division__path", site="session__site_id"),
    # Sessions (issue 9, sessions): where their site is.
    "sites.session": _Placement(path="site__division__path", site="site_id"),
    "sites.sessiontemplate": _Placement(path="site__division__path", site="site_id"),
    "sites.circuit": _Placement(path="site__division__path", site="site_id"),
    # visits (issue 9 §4): a visit sits at its session's site.
    "visits.visit": _Placement(path="session__site__division__path", site="session__site_id"),
    # safety: a report sits at the site of its dose (without a dose: the person's home), a
    # cluster at its site (a lot cluster: where the report that opened it was given).
    "safety.aefireport": _Placement(path="division__path", site="site_id"),
    "safety.aeficluster": _Placement(path="division__path", site="site_id"),
    # Standby (part standby): an entry or an offer sits at its session's site, and for a division
    # grant also where the person lives (a grid worker sees the entries of their grid's residents).
    "standby.standbyentry": _Placement(path="session__site__division__path", site="session__site_id",
                                       site_path="person__home_division__path"),
    # The daily report (issue 10, reports): an issued report sits at its division.
    "reports.issuedreport": _Placement(path="division__path"),
    "standby.offer": _Placement(path="entry__session__site__division__path", site="entry__session__site_id",
                                site_path="entry__person__home_division__path"),
    # Appointments (issue 10, appointments): a slot sits at its session's site; a booking there
    # too, and for a division grant also where the person lives (a grid worker's residents).
    "appointments.slot": _Placement(path="session__site__division__path", site="session__site_id"),
    "appointments.appointment": _Placement(path="session__site__division__path", site="session__site_id",
                                           site_path="person__home_division__path"),
    # key groups and targets (issue 10, targets): a member sits where the person lives and, for a
    # division grant, also where the responsible unit is (a hospital's county command sees its
    # staff living elsewhere); site staff see their county's. A target sits in its division.
    "keygroups.membership": _Placement(path="person__home_division__path", county="county_code",
                                       site_path="unit__division__path"),
    "targets.target": _Placement(path="division__path", county="county_code"),
    # outreach (issue 10, outreach): a due row and a contact attempt sit where the person lives.
    "outreach.dueentry": _Placement(path="home_path", county="county_code"),
    "outreach.contactattempt": _Placement(path="home_path", county="county_code"),
}


def _area(g: Grant, place: _Placement, action: str) -> Q:
    """The filter for one grant on a model (``Q()``: the grant reaches every row)."""
    if place.path is None or action in place.open_for or g.everything:
        return Q()
    if g.division_path is not None:
        q = Q(**{f"{place.path}__startswith": g.division_path})
        if place.site_path is not None:
            q |= Q(**{f"{place.site_path}__startswith": g.division_path})
        return q
    if place.site is not None:
        return Q(**{place.site: g.site_id})
    if place.county is not None:
        # A site serves its county: site staff see the residents and figures of that county.
        return Q(**{place.county: g.site_county_code})
    return Q(**{f"{place.path}__startswith": g.site_division_path})


def _area_admits(g: Grant, place: _Placement, action: str, row: Mapping[str, Any]) -> bool:
    """``_area`` evaluated in memory on one row's values (keyed by the same lookups)."""
    if place.path is None or action in place.open_for or g.everything:
        return True
    if g.division_path is not None:
        return any(
            (row.get(lookup) or "").startswith(g.division_path) for lookup in (place.path, place.site_path) if lookup
        )
    if place.site is not None:
        return row[place.site] == g.site_id
    if place.county is not None:
        return row[place.county] == g.site_county_code
    return row[place.path].startswith(g.site_division_path)


M = TypeVar("M", bound=models.Model)


def restrict(queryset: models.QuerySet[M], user: Any, action: str) -> models.QuerySet[M]:
    """``queryset`` filtered to what ``user`` may reach for ``action`` (empty if nothing)."""
    place = _PLACEMENTS[queryset.model._meta.label_lower]
    allowed = PERMISSIONS[action]
    filters = [_area(g, place, action) for g in grants_for(user) if g.role in allowed]
    if not filters:
        return queryset.none()
    if any(not f for f in filters):  # an unrestricted grant
        return queryset
    if action in place.reached_by:
        filters.append(Q(pk__in=_reached(user).values("person_id")))
    area = reduce(or_, filters)
    if place.many:
        return queryset.filter(pk__in=queryset.model._default_manager.filter(area).values("pk"))
    return queryset.filter(area)


def _reached(user: Any) -> models.QuerySet:
    """The user's reaches still valid now (people found by exact ID number today)."""
    from django.utils import timezone

    from vaxops.access.models import PersonReach

    return PersonReach.objects.filter(user_id=user.pk, valid_until__gt=timezone.now())


def has_reached(user: Any, person_id: int) -> bool:
    """Whether ``user`` reached person ``person_id`` by exact ID number and it still holds."""
    return _reached(user).filter(person_id=person_id).exists()


def get_scoped(
    queryset: models.QuerySet[M], user: Any, action: str, *, not_found: str, detail=None, **lookup
) -> M:
    """One object within the user's area, or ``VaxopsError(not_found)`` (401 if anonymous).

    A user who could see the object but whose roles do not allow ``action`` gets
    ``permission_denied``; anything outside their area is simply not found.
    """
    if not getattr(user, "is_authenticated", False):
        raise VaxopsError("not_authenticated")
    try:
        return restrict(queryset, user, action).get(**lookup)
    except queryset.model.DoesNotExist:
        pass
    if not can(user, action):
        raise VaxopsError("permission_denied")
    raise VaxopsError(not_found, detail)


def admits(user: Any, action: str, model: type[models.Model], row: Mapping[str, Any]) -> bool:
    """Whether ``restrict(model.objects…, user, action)`` would keep ``row``, decided in memory.

    For a row already fetched (or cached) by the caller: ``row`` maps the model's placement
    lookups (e.g. ``{"pk": …, "division__path": …}`` for a site) to the row's values. The
    same grants and the same rules as ``restrict``, so the two cannot disagree.
    """
    place = _PLACEMENTS[model._meta.label_lower]
    allowed = PERMISSIONS[action]
    grants = [g for g in grants_for(user) if g.role in allowed]
    if any(_area_admits(g, place, action, row) for g in grants):
        return True
    # Outside the area: only a reach by exact ID number admits, and only for a row that says
    # which one it is (``pk``). Costs a query only for an out-of-area row.
    return bool(grants) and action in place.reached_by and row.get("pk") is not None and has_reached(
        user, row["pk"]
    )


def check_scoped(
    user: Any,
    action: str,
    model: type[models.Model],
    row: Mapping[str, Any] | None,
    *,
    not_found: str,
    detail=None,
) -> None:
    """``get_scoped`` for a row the caller already holds (``None``: no such row).

    Raises exactly what ``get_scoped`` would: ``not_authenticated``, ``permission_denied``
    when no role allows ``action``, ``not_found`` when the row is missing or outside the area.
    """
    if not getattr(user, "is_authenticated", False):
        raise VaxopsError("not_authenticated")
    if row is not None and admits(user, action, model, row):
        return
    if not can(user, action):
        raise VaxopsError("permission_denied")
    raise VaxopsError(not_found, detail)


def within_county(user: Any, action: str, county_code: str) -> bool:
    """Whether a grant of ``user`` allowing ``action`` lies inside county ``county_code`` (a
    township, village or grid of it): who works below a county reaches what the county offers
    its residents (issue 10, appointments: a grid worker sees the slots of the county's sessions)."""
    allowed = PERMISSIONS[action]
    return bool(county_code) and any(
        g.role in allowed and g.division_path is not None and county_code in g.division_path.split("/")
        for g in grants_for(user))


def require(user: Any, action: str) -> None:
    """Raise unless the user is logged in and some role of theirs allows ``action``."""
    if not getattr(user, "is_authenticated", False):
        raise VaxopsError("not_authenticated")
    if not can(user, action):
        raise VaxopsError("permission_denied")
