"""Users, their roles and tokens; failed log-ins and out-of-area look-ups.

Every function here is the one write path for its fact: one durable transaction, an explicit
``acting_user`` (``None``: the operator at the server's command line, who may do anything),
and an audit event in the same transaction. A manager in the browser (an admin, or a county
command within their county) may only act on users whose every role lies in their own area,
and may only grant the roles ``access.scope.GRANTABLE`` gives them, within that area.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from vaxops.access import throttle
from vaxops.access.models import ApiToken, Attempt, PersonReach, Role, RoleAssignment, bump_grants_version
from vaxops.access.scope import GRANTABLE, grants_for, require, restrict
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


def _check_grant(acting_user: Any, role: str, division: Division | None, site: Site | None) -> None:
    """Refuse a role or scope the manager may not give (the command line may give anything)."""
    if role not in Role.values:
        raise VaxopsError("invalid_role", {"role": role})
    if division is None and site is None and role != Role.ADMIN:
        raise VaxopsError("scope_required", {"role": role})
    if acting_user is None:
        return
    require(acting_user, "user.manage")
    if not any(role in GRANTABLE.get(g.role, ()) for g in grants_for(acting_user)):
        raise VaxopsError("role_not_grantable", {"role": role})
    if division is None and site is None:
        within = any(g.everything for g in grants_for(acting_user) if g.role in GRANTABLE)
    elif site is not None:
        within = restrict(Site.objects.filter(pk=site.pk), acting_user, "user.manage").exists()
    else:
        within = restrict(Division.objects.filter(pk=division.pk), acting_user, "user.manage").exists()
    if not within:
        raise VaxopsError("role_not_grantable", {"role": role})


def managed_user(acting_user: Any, user_id: int) -> Any:
    """The user ``acting_user`` may manage: found in their area, with every role inside it.

    A user who also holds a role elsewhere is managed by whoever covers all their areas (in the
    end the admin); to anyone else they are not found.
    """
    User = get_user_model()
    if acting_user is None:
        user = User.objects.filter(pk=user_id).first()
        if user is None:
            raise VaxopsError("user_not_found", {"user_id": user_id})
        return user
    require(acting_user, "user.manage")
    user = restrict(User.objects.all(), acting_user, "user.manage").filter(pk=user_id).first()
    if user is not None:
        roles = RoleAssignment.objects.filter(user=user)
        if restrict(roles, acting_user, "user.manage").count() == roles.count():
            return user
    raise VaxopsError("user_not_found", {"user_id": user_id})


def _assignment_after(a: RoleAssignment) -> dict[str, Any]:
    scope = a.site.code if a.site_id else (a.division.code if a.division_id else "*")
    return {"user": a.user.get_username(), "role": a.role, "scope": scope}


def create_user(
    *,
    username: str,
    role: str,
    scope: str | None,
    password: str | None = None,
    with_token: bool = False,
    add_role: bool = False,
    known_password: bool = False,
    acting_user: Any = None,
    source: str,
) -> tuple[Any, str | None]:
    """Create a user with one role over a scope; returns the user and a new token (or ``None``).

    An existing username is refused (``user_exists``) unless ``add_role`` says to add the role
    to that user. A password must pass Django's password validators (``AUTH_PASSWORD_VALIDATORS``)
    unless ``known_password``: only for the demo's and the test suite's published passwords,
    never for a real account (the command line and the pages never pass it). Without a password
    the account cannot log in to the pages (an API-only device, or one to be set later).
    The token is returned once and only its hash is stored.
    """
    username = (username or "").strip()
    User = get_user_model()
    if not username or len(username) > User._meta.get_field("username").max_length:
        raise VaxopsError("invalid_username")
    division, site = resolve_scope(scope)
    _check_grant(acting_user, role, division, site)
    existing = User.objects.filter(username=username).first()
    if existing is not None and not add_role:
        raise VaxopsError("user_exists", {"username": username})
    if existing is not None and acting_user is not None:
        managed_user(acting_user, existing.pk)
    if password and not known_password:
        try:
            password_validation.validate_password(password, existing or User(username=username))
        except ValidationError as exc:
            raise VaxopsError("invalid_password", {"reasons": " ".join(exc.messages)}) from None
    token = None
    with transaction.atomic(durable=True):
        user = existing
        if user is None:
            user = User(username=username)
            if password:
                user.set_password(password)
            else:
                user.set_unusable_password()
            user.save()
            audit("user.create", user, actor=acting_user, source=source, after={"user": username})
        elif password:
            user.set_password(password)
            user.save(update_fields=["password"])
            audit("user.password_set", user, actor=acting_user, source=source, after={"user": username})
        assignment = RoleAssignment.objects.create(user=user, role=role, division=division, site=site)
        audit("user.role_assigned", assignment, actor=acting_user, source=source, after=_assignment_after(assignment))
        if with_token:
            row, token = ApiToken.issue(user)
            audit("token.issue", row, actor=acting_user, source=source, after={"user": username, "prefix": row.prefix})
    return user, token


def assign_role(*, user_id: int, role: str, scope: str | None, acting_user: Any, source: str) -> RoleAssignment:
    """Give an existing user one more role over a scope."""
    user = managed_user(acting_user, user_id)
    division, site = resolve_scope(scope)
    _check_grant(acting_user, role, division, site)
    with transaction.atomic(durable=True):
        assignment = RoleAssignment.objects.create(user=user, role=role, division=division, site=site)
        audit("user.role_assigned", assignment, actor=acting_user, source=source, after=_assignment_after(assignment))
    return assignment


def remove_role(*, assignment_id: int, acting_user: Any, source: str) -> None:
    """Take one role away. The last role is never removed: deactivate the user instead (a
    user without a role would drop out of every county's list)."""
    with transaction.atomic(durable=True):
        assignment = RoleAssignment.objects.select_related("user", "division", "site").filter(pk=assignment_id).first()
        if assignment is None:
            raise VaxopsError("user_not_found", {"assignment_id": assignment_id})
        user = managed_user(acting_user, assignment.user_id)
        if RoleAssignment.objects.filter(user=user).count() <= 1:
            raise VaxopsError("last_role")
        before = _assignment_after(assignment)
        assignment.delete()
        audit("user.role_removed", user, actor=acting_user, source=source, before=before)


def _user_by_name(username: str) -> Any:
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise VaxopsError("user_not_found", {"username": username})
    return user


def set_active(*, user_id: int, active: bool, acting_user: Any, source: str) -> Any:
    """Deactivate (or reactivate) a user. From the next request on, in every process, the
    user's web sessions and API tokens are refused (both check ``is_active`` per request)."""
    if acting_user is not None and getattr(acting_user, "pk", None) == user_id and not active:
        raise VaxopsError("cannot_deactivate_self")
    with transaction.atomic(durable=True):
        user = managed_user(acting_user, user_id)
        if user.is_active != active:
            user.is_active = active
            user.save(update_fields=["is_active"])
            audit(
                "user.deactivate" if not active else "user.reactivate", user, actor=acting_user, source=source,
                before={"is_active": not active}, after={"is_active": active, "user": user.get_username()},
            )
    return user


def deactivate_user(*, username: str, acting_user: Any = None, source: str) -> Any:
    """``set_active(False)`` by username (the command line's ``deactivate-user``)."""
    return set_active(user_id=_user_by_name(username).pk, active=False, acting_user=acting_user, source=source)


def issue_token(*, user_id: int, acting_user: Any, source: str) -> tuple[ApiToken, str]:
    """A new API token for the user; the token itself is returned once, only its hash is kept."""
    with transaction.atomic(durable=True):
        user = managed_user(acting_user, user_id)
        row, token = ApiToken.issue(user)
        audit("token.issue", row, actor=acting_user, source=source,
              after={"user": user.get_username(), "prefix": row.prefix})
    return row, token


def revoke_token(*, token_id: int, acting_user: Any, source: str) -> ApiToken:
    """Revoke one token; the next request with it is refused in every process."""
    with transaction.atomic(durable=True):
        row = ApiToken.objects.select_for_update().filter(pk=token_id).first()
        if row is None:
            raise VaxopsError("token_not_found", {"token_id": token_id})
        managed_user(acting_user, row.user_id)
        if not row.revoked:
            row.revoked = True
            row.save(update_fields=["revoked"])
            audit("token.revoke", row, actor=acting_user, source=source, after={"prefix": row.prefix})
    return row


def revoke_tokens(*, username: str, acting_user: Any = None, source: str) -> int:
    """Revoke every token of a user (the command line's ``revoke-tokens``); returns how many."""
    user = _user_by_name(username)
    with transaction.atomic(durable=True):
        managed_user(acting_user, user.pk)
        rows = list(ApiToken.objects.select_for_update().filter(user=user, revoked=False))
        ApiToken.objects.filter(pk__in=[r.pk for r in rows]).update(revoked=True)
        for row in rows:
            audit("token.revoke", row, actor=acting_user, source=source, after={"prefix": row.prefix})
    return len(rows)


def user_still_active(user: Any) -> bool:
    """Whether the user still exists and is active (for a write that lost to a deletion)."""
    pk = getattr(user, "pk", None)
    return pk is not None and get_user_model().objects.filter(pk=pk, is_active=True).exists()


# -- failed log-ins and tokens ------------------------------------------------------------------


def record_failed_attempt(
    *, kind: str, keys: Iterable[str], user_id: int | None = None, address: str = "", source: str
) -> None:
    """Count one failed log-in or token for each key (account and address), and audit it.

    The failure is written even though the request is refused: it is the record the limits are
    decided on. Rows older than the limit's horizon are pruned for these keys.
    """
    limit = throttle.limit_for(kind)
    now = timezone.now()
    keys = list(keys)
    with transaction.atomic(durable=True):
        Attempt.objects.filter(kind=kind, key__in=keys, at__lt=now - limit.horizon).delete()
        rows = [Attempt.objects.create(kind=kind, key=k, at=now) for k in keys]
        # No actor: whoever failed is not known to be the account's owner.
        audit(
            f"auth.{kind}_failed", rows[0], actor=None, source=source,
            after={"keys": keys, "address": address, "user_id": user_id},
        )


def clear_failed_logins(*, username: str, acting_user: Any, source: str) -> None:
    """A successful log-in forgets the account's failures (not the address's)."""
    key = throttle.account_key(username)
    with transaction.atomic(durable=True):
        deleted, _ = Attempt.objects.filter(kind=Attempt.Kind.LOGIN, key=key).delete()
        if deleted:
            audit("auth.login_failures_cleared", acting_user, actor=acting_user, source=source,
                  after={"cleared": deleted})


# -- reaching a person outside the area ----------------------------------------------------------


def end_of_working_day(now: dt.datetime) -> dt.datetime:
    """Midnight after ``now`` in the campaign's time zone: a reach lasts for that day."""
    local = timezone.localtime(now)
    return (local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1))


def reach_person(*, person: Any, acting_user: Any, source: str) -> PersonReach:
    """Site staff found ``person`` (outside their area) by the exact ID number on the card.

    Rate-limited per user (``VAXOPS_LOOKUP_*``; refused with 429 ``too_many_requests`` and
    nothing written); audited as ``person.lookup_out_of_area`` with the user and the person only;
    until the end of the working day the person's numeric id answers for this user (for the card,
    eligibility and the dose). Locks nothing: two reaches at once simply both count.
    """
    key = throttle.user_key(acting_user.pk)
    now = timezone.now()
    # Looking again at a person already reached today (the desk redraws the card as the vaccine
    # is chosen) is audited but not counted: the limit is on reaching new people.
    reach = PersonReach.objects.filter(user=acting_user, person=person, valid_until__gt=now).first()
    if reach is None:
        throttle.check(Attempt.Kind.LOOKUP, [key])
    limit = throttle.limit_for(Attempt.Kind.LOOKUP)
    with transaction.atomic(durable=True):
        if reach is None:
            Attempt.objects.filter(kind=Attempt.Kind.LOOKUP, key=key, at__lt=now - limit.horizon).delete()
            Attempt.objects.create(kind=Attempt.Kind.LOOKUP, key=key, at=now)
            PersonReach.objects.filter(user=acting_user, valid_until__lte=now).delete()
            reach = PersonReach.objects.filter(user=acting_user, person=person, valid_until__gt=now).first()
        if reach is None:
            reach = PersonReach.objects.create(
                user=acting_user, person=person, reached_at=now, valid_until=end_of_working_day(now)
            )
        audit(
            "person.lookup_out_of_area", person, actor=acting_user, source=source,
            county_code=person.county_code, after={"person": person.pk},
        )
    return reach


__all__ = [
    "assign_role", "bump_grants_version", "clear_failed_logins", "create_user", "deactivate_user", "issue_token",
    "managed_user", "reach_person", "record_failed_attempt", "remove_role", "resolve_scope", "revoke_token",
    "revoke_tokens", "set_active", "user_still_active",
]
