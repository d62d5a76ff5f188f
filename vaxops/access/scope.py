"""The one way in: every read and write a user's request makes is filtered here.

A user's roles decide *what* they may do (``PERMISSIONS``); each role assignment's scope
decides *where* (a division subtree, or one site). ``restrict`` turns both into a queryset
filter for a model, so views, API endpoints and services never build area filters themselves.
Objects outside the user's area are reported as "not found", never as "forbidden", so their
existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Callable
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
        {Role.VACCINATOR, Role.SITE_MANAGER, Role.GRID_WORKER, Role.COUNTY_COMMAND, Role.ADMIN}
    ),
    # Looking a person up for vaccination: residents may be vaccinated anywhere (migrants and
    # travellers are normal), so site staff reach any person, but only by exact ID or by id.
    "person.vaccinate": SITE_ROLES,
    "dose.view": ALL_ROLES - {Role.SUPPLY_OFFICER, Role.GRID_WORKER},
    "dose.add": SITE_ROLES,
    "dose.override": frozenset({Role.SITE_MANAGER}),
    "dose.void": frozenset({Role.SITE_MANAGER, Role.COUNTY_COMMAND, Role.ADMIN}),
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
        cached = tuple(
            Grant(
                role=a.role,
                division_path=a.division.path if a.division_id else None,
                site_id=a.site_id,
                site_division_path=a.site.division.path if a.site_id else None,
                site_county_code=a.site.county_code if a.site_id else None,
            )
            for a in RoleAssignment.objects.filter(user=user).select_related("division", "site__division")
        )
        user._vaxops_grants = cached
    return cached


def can(user: Any, action: str) -> bool:
    """Whether any of the user's roles allows ``action`` somewhere."""
    allowed = PERMISSIONS[action]
    return any(g.role in allowed for g in grants_for(user))


def _area(g: Grant, *, path_field: str, site_field: str | None, county_field: str | None) -> Q:
    """The filter for one grant on a model described by its path/site/county lookups."""
    if g.everything:
        return Q()
    if g.division_path is not None:
        return Q(**{f"{path_field}__startswith": g.division_path})
    if site_field is not None:
        return Q(**{site_field: g.site_id})
    if county_field is not None:
        # A site serves its county: site staff see the residents and figures of that county.
        return Q(**{county_field: g.site_county_code})
    return Q(**{f"{path_field}__startswith": g.site_division_path})


# model label -> how a grant becomes a filter on it
_RULES: dict[str, Callable[[Grant, str], Q]] = {
    "regions.division": lambda g, a: _area(g, path_field="path", site_field=None, county_field=None),
    "campaign.dosecounter": lambda g, a: _area(g, path_field="path", site_field=None, county_field=None),
    "sites.site": lambda g, a: _area(g, path_field="division__path", site_field="pk", county_field=None),
    "vaccination.doserecord": lambda g, a: _area(
        g, path_field="division__path", site_field="site_id", county_field=None
    ),
    "registry.person": lambda g, a: (
        Q()
        if a == "person.vaccinate"
        else _area(g, path_field="home_division__path", site_field=None, county_field="county_code")
    ),
    # Lots are product-wide reference data until stores carry stock.
    "supply.lot": lambda g, a: Q(),
}

M = TypeVar("M", bound=models.Model)


def restrict(queryset: models.QuerySet[M], user: Any, action: str) -> models.QuerySet[M]:
    """``queryset`` filtered to what ``user`` may reach for ``action`` (empty if nothing)."""
    rule = _RULES[queryset.model._meta.label_lower]
    allowed = PERMISSIONS[action]
    filters = [rule(g, action) for g in grants_for(user) if g.role in allowed]
    if not filters:
        return queryset.none()
    if any(not f for f in filters):  # an unrestricted grant
        return queryset
    return queryset.filter(reduce(or_, filters))


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


def require(user: Any, action: str) -> None:
    """Raise unless the user is logged in and some role of theirs allows ``action``."""
    if not getattr(user, "is_authenticated", False):
        raise VaxopsError("not_authenticated")
    if not can(user, action):
        raise VaxopsError("permission_denied")
