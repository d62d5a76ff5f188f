"""Users, their roles and tokens."""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction

from vaxops.access.models import ApiToken, Role, RoleAssignment
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.regions.models import Division
from vaxops.sites.models import Site


def resolve_scope(scope: str | None) -> tuple[Division | None, Site | None]:
    """A scope code is a division code or a site code; empty means everything (admins)."""
    if not scope:
        return None, None
    division = Division.objects.filter(code=scope).first()
    if division is not None:
        return division, None
    site = Site.objects.filter(code=scope).first()
    if site is not None:
        return None, site
    raise VaxopsError("division_not_found", {"division_code": scope})


def create_user(
    *,
    username: str,
    role: str,
    scope: str | None,
    password: str | None = None,
    with_token: bool = False,
    acting_user: Any = None,
    source: str,
) -> tuple[Any, str | None]:
    """Create a user (or add a role to an existing one); returns the user and a new token.

    The token is returned once and only its hash is stored.
    """
    if role not in Role.values:
        raise ValueError(f"unknown role {role!r}; choose from {', '.join(Role.values)}")
    division, site = resolve_scope(scope)
    if division is None and site is None and role != Role.ADMIN:
        raise ValueError("only an admin may have no scope")
    User = get_user_model()
    token = None
    with transaction.atomic(durable=True):
        user, created = User.objects.get_or_create(username=username)
        if password:
            user.set_password(password)
            user.save()
        elif created:
            user.set_unusable_password()
            user.save()
        assignment = RoleAssignment.objects.create(user=user, role=role, division=division, site=site)
        if with_token:
            _, token = ApiToken.issue(user)
        audit(
            "user.role_assigned", assignment, actor=acting_user, source=source,
            after={"user": username, "role": role, "scope": scope or "*"},
        )
    return user, token
