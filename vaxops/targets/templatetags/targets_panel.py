"""The dashboard's targets panel: ``{% load targets_panel %}{% targets_panel division at %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()


@register.inclusion_tag("targets/_dashboard_panel.html", takes_context=True)
def targets_panel(context: template.Context, division: Any, at: Any) -> dict[str, Any]:
    """The division's own targets and how many of its children's are behind (nothing when none is set)."""
    from vaxops.targets.services import progress_items
    from vaxops.targets.views import decorated

    request = context.get("request")
    user = getattr(request, "user", None)
    if division is None or user is None:
        return {"targets": None}
    items = decorated(progress_items(division, at, user))
    if not items:
        return {"targets": None}
    children = [i for i in items if i["is_child"]]
    return {"targets": {
        "own": [i for i in items if not i["is_child"]], "children": len(children),
        "behind": sum(1 for i in children if i["status"] == "behind"),
        "met": sum(1 for i in children if i["met"]),
        "url": reverse("targets:progress") + "?" + urlencode({"division": division.code,
                                                               "at": at.strftime("%Y-%m-%dT%H:%M")}),
    }}
