"""What a refused user can do instead: advice on the 403 page that fits their roles."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.translation import gettext as _

from vaxops.access.models import Role
from vaxops.access.scope import can, grants_for

register = template.Library()


def advice_for(user: Any) -> list[dict[str, str]]:
    """One line per role the user holds (each at most once): what they can do, and where."""
    dashboard = reverse("web:dashboard")
    users = reverse("access:users")
    lines: list[dict[str, str]] = []
    seen: set[str] = set()
    for g in grants_for(user):
        if g.role in seen:
            continue
        seen.add(g.role)
        if g.role == Role.GRID_WORKER:
            lines.append({"text": _("As a grid worker you follow up the residents of your grid: the dashboard "
                                    "shows how many of them are vaccinated. Send those still to be vaccinated to "
                                    "their vaccination site; the site staff record the dose there."),
                          "url": dashboard, "link": _("Your grid's figures")})
        elif g.role == Role.SUPPLY_OFFICER:
            lines.append({"text": _("As a supply officer you look after lots and stock. The status of every lot "
                                    "(released, quarantined, recalled) is in the lot list of the API; the "
                                    "dashboard shows the doses used in your area."),
                          "url": dashboard, "link": _("Doses used in your area")})
        elif g.role == Role.COUNTY_COMMAND:
            lines.append({"text": _("As county command you follow the county's figures and manage its staff: "
                                    "to let someone record doses, give them a vaccinator or site manager role "
                                    "at a site on the Users page."),
                          "url": users, "link": _("Manage the county's users")})
        elif g.role == Role.SUPERVISOR:
            lines.append({"text": _("As a supervisor you review what was recorded; you do not record doses. "
                                    "The dashboard shows the figures of your area."),
                          "url": dashboard, "link": _("Figures of your area")})
        elif g.role == Role.PREFECTURE_COMMAND:
            lines.append({"text": _("As prefecture command you follow the figures of the whole prefecture on the "
                                    "dashboard; doses are recorded at the sites."),
                          "url": dashboard, "link": _("The prefecture's figures")})
        elif g.role == Role.ADMIN:
            lines.append({"text": _("As administrator you manage users and their roles; to record doses "
                                    "yourself, give your account a role at a site."),
                          "url": users, "link": _("Users")})
        elif g.role in (Role.VACCINATOR, Role.SITE_MANAGER) and not can(user, "user.manage"):
            lines.append({"text": _("Managing users is for administrators and county commands: ask your "
                                    "county command to change an account."),
                          "url": reverse("web:desk"), "link": _("Back to the site desk")})
    if not lines:
        lines.append({"text": _("Your account has no role yet: ask your county command to give you one."),
                      "url": dashboard, "link": _("Dashboard")})
    return lines


@register.simple_tag(takes_context=True)
def forbidden_advice(context: template.Context) -> list[dict[str, str]]:
    request = context.get("request")
    return advice_for(getattr(request, "user", None))
