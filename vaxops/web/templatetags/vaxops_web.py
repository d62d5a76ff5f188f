"""Template helpers for the vaxops pages: the user's roles, permissions, percentages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils import formats

from vaxops.access.models import RoleAssignment
from vaxops.access.scope import can
from vaxops.core.formats import format_percent

register = template.Library()


@register.simple_tag(takes_context=True)
def user_roles(context: template.Context) -> list[dict[str, str]]:
    """The signed-in user's roles with the name of each scope, for the navigation bar.

    Read once per request (cached on the request): the bar is drawn on every page.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(request, "_vaxops_roles", None)
    if cached is None:
        cached = []
        # The user's own assignments, not data of an area: no scope filter applies.
        for a in RoleAssignment.objects.filter(user=user).select_related("division", "site").order_by("pk"):
            scope = a.site.name if a.site_id else (a.division.name if a.division_id else "")
            cached.append({"role": str(a.get_role_display()), "scope": scope})
        request._vaxops_roles = cached
    return cached


@register.filter
def may(user: Any, action: str) -> bool:
    """``{% if user|may:"dose.add" %}``: whether any of the user's roles allows the action."""
    return can(user, action)


@register.filter
def grouped(value: int | None) -> str:
    """A count with the locale's grouping (373,657 in English; 373657 in Chinese)."""
    if value is None:
        return "–"
    return formats.number_format(value, force_grouping=True)


@register.filter
def percent(value: float | None, digits: int = 1) -> str:
    """A fraction as a localised percentage (0.1234 → "12.3%"); a dash when unknown.

    Rounded half up by ``core.formats.format_percent``, like every other percentage, so a
    table cell reads what the chart and the headline read."""
    return format_percent(value, int(digits))
