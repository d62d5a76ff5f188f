"""User management in the browser: an admin (everywhere) or a county command (their county).

Every read goes through ``access.scope`` and every write through ``access.services``, so the
pages can do exactly what the command line can, within the manager's area, audited. A new API
token is shown once, in the answer to the request that issued it; afterwards only its prefix.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Prefetch, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vaxops.access.forms import RoleForm, UserCreateForm
from vaxops.access.models import ApiToken, RoleAssignment
from vaxops.access.scope import can, restrict
from vaxops.access.services import (
    assign_role,
    create_user,
    issue_token,
    managed_user,
    remove_role,
    revoke_token,
    set_active,
)
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date
from vaxops.core.models import Source

FIELD_OF = {"user_exists": "username", "invalid_username": "username", "invalid_password": "password",
            "invalid_role": "role", "role_not_grantable": "role", "scope_required": "scope",
            "division_not_found": "scope"}


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/forbidden.html", {"forbidden_page": "users"}, status=403)


def _roles_prefetch() -> Prefetch:
    return Prefetch("roles", queryset=RoleAssignment.objects.select_related("division", "site").order_by("pk"))


@login_required
@require_GET
def user_list(request: HttpRequest) -> HttpResponse:
    """The users of the manager's area, with their roles and how many live tokens they hold."""
    if not can(request.user, "user.manage"):
        return _forbidden(request)
    users = (
        restrict(get_user_model().objects.all(), request.user, "user.manage")
        .prefetch_related(_roles_prefetch())
        .annotate(live_tokens=Count("api_tokens", filter=Q(api_tokens__revoked=False)))
        .order_by("-is_active", "username")
    )
    query = request.GET.get("q", "").strip()
    if query:
        users = users.filter(username__icontains=query)
    return render(request, "access/users.html", {"users": users[:500], "query": query})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def user_new(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "user.manage"):
        return _forbidden(request)
    form = UserCreateForm(request.POST or None, manager=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            user, token = create_user(
                username=data["username"], role=data["role"], scope=data["scope"] or None,
                password=data["password"] or None, with_token=data["with_token"],
                acting_user=request.user, source=Source.WEB,
            )
        except VaxopsError as exc:
            form.add_error(FIELD_OF.get(exc.code), exc.message)
        else:
            if token:
                return _detail(request, user, new_token=token, notice=_("The user was created."))
            return redirect(reverse("access:user", args=[user.pk]) + "?created=1")
    return render(request, "access/user_new.html", {"form": form}, status=422 if form.errors else 200)


def _detail(request: HttpRequest, user: Any, *, form: RoleForm | None = None, new_token: str = "",
            notice: str = "", error: VaxopsError | None = None, status: int = 200) -> HttpResponse:
    roles = list(RoleAssignment.objects.filter(user=user).select_related("division", "site").order_by("pk"))
    tokens = list(restrict(ApiToken.objects.filter(user=user), request.user, "user.manage").order_by("-created_at"))
    for t in tokens:
        local = timezone.localtime(t.created_at)
        t.issued_text = f"{format_date(local)} {local:%H:%M}"
    response = render(request, "access/user_detail.html", {
        "subject": user, "assignments": roles, "tokens": tokens, "role_form": form or RoleForm(manager=request.user),
        "new_token": new_token, "notice": notice, "error": error, "is_self": user.pk == request.user.pk,
    }, status=status)
    if new_token:
        response["Cache-Control"] = "no-store"
    return response


def _managed(request: HttpRequest, user_id: int):
    if not can(request.user, "user.manage"):
        return None, _forbidden(request)
    try:
        return managed_user(request.user, user_id), None
    except VaxopsError as exc:
        return None, render(request, "web/error.html", {"error": exc}, status=exc.status)


@login_required
@never_cache
@require_GET
def user_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    user, refused = _managed(request, user_id)
    if refused:
        return refused
    notice = _("The user was created.") if request.GET.get("created") else ""
    return _detail(request, user, notice=notice)


@login_required
@never_cache
@require_POST
def user_action(request: HttpRequest, user_id: int, action: str) -> HttpResponse:
    """One change to a user: add or remove a role, (de)activate, issue or revoke a token."""
    user, refused = _managed(request, user_id)
    if refused:
        return refused
    kwargs = {"acting_user": request.user, "source": Source.WEB}
    try:
        if action == "role_add":
            form = RoleForm(request.POST, manager=request.user)
            if not form.is_valid():
                return _detail(request, user, form=form, status=422)
            assign_role(user_id=user.pk, role=form.cleaned_data["role"], scope=form.cleaned_data["scope"] or None,
                        **kwargs)
            notice = _("The role was added.")
        elif action == "role_remove":
            assignment = RoleAssignment.objects.filter(pk=request.POST.get("assignment"), user=user).first()
            if assignment is None:
                raise VaxopsError("user_not_found")
            remove_role(assignment_id=assignment.pk, **kwargs)
            notice = _("The role was removed.")
        elif action in ("deactivate", "reactivate"):
            user = set_active(user_id=user.pk, active=action == "reactivate", **kwargs)
            notice = _("The user can no longer log in or use a token.") if action == "deactivate" else _(
                "The user can log in again.")
        elif action == "token_issue":
            _row, token = issue_token(user_id=user.pk, **kwargs)
            return _detail(request, user, new_token=token)
        elif action == "token_revoke":
            token_id = request.POST.get("token", "")
            if not token_id.isdigit() or not ApiToken.objects.filter(pk=token_id, user=user).exists():
                raise VaxopsError("token_not_found")
            revoke_token(token_id=int(token_id), **kwargs)
            notice = _("The token was revoked: requests with it are refused from now on.")
        else:
            raise VaxopsError("not_found")
    except VaxopsError as exc:
        return _detail(request, user, error=exc, status=exc.status)
    return _detail(request, user, notice=notice)
