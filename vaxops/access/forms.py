"""Forms of the user-management pages; choices are limited to what the manager may give."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from vaxops.access.models import Role
from vaxops.access.scope import GRANTABLE, grants_for, restrict
from vaxops.regions.models import Division, Level
from vaxops.sites.models import Site


def grantable_roles(manager: Any) -> list[tuple[str, str]]:
    allowed: set[str] = set()
    for g in grants_for(manager):
        allowed |= GRANTABLE.get(g.role, frozenset())
    return [(value, label) for value, label in Role.choices if value in allowed]


def scope_choices(manager: Any) -> list[tuple[str, Any]]:
    """Divisions (down to townships) and sites within the manager's area, as grouped choices."""
    divisions = restrict(
        Division.objects.filter(level__lte=Level.TOWNSHIP).order_by("path"), manager, "user.manage"
    )
    sites = restrict(Site.objects.filter(is_active=True).select_related("division").order_by("code"), manager,
                     "user.manage")
    choices: list[tuple[str, Any]] = []
    if any(g.everything for g in grants_for(manager) if g.role in GRANTABLE):
        choices.append(("", _("All areas (administrators only)")))
    choices.append((_("Divisions"), [(d.code, f"{d.name} ({d.code})") for d in divisions]))
    choices.append((_("Vaccination sites"), [(s.code, f"{s.name} ({s.code})") for s in sites]))
    return choices


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"))
    scope = forms.ChoiceField(label=_("Area or site"), required=False)

    def __init__(self, *args, manager: Any, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = grantable_roles(manager)
        self.fields["scope"].choices = scope_choices(manager)


class UserCreateForm(RoleForm):
    username = forms.CharField(label=_("User name"), max_length=150)
    password = forms.CharField(
        label=_("Password"), required=False, widget=forms.PasswordInput(render_value=False),
        help_text=_("At least 8 characters, not a common word, not like the user name. "
                    "Leave empty for an account that only uses an API token."),
    )
    with_token = forms.BooleanField(label=_("Issue an API token now"), required=False)

    field_order = ["username", "password", "role", "scope", "with_token"]
