"""The dashboard's AEFI panel: ``{% load safety_panel %}{% aefi_panel division %}``."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.http import urlencode

register = template.Library()


@register.inclusion_tag("safety/_dashboard_panel.html", takes_context=True)
def aefi_panel(context: template.Context, division: Any) -> dict[str, Any]:
    """Reported, serious, per 100,000 doses and overdue for ``division`` (empty for a user who
    may not read AEFI reports)."""
    from vaxops.access.scope import can, restrict
    from vaxops.safety.models import AefiCluster, ClusterStatus
    from vaxops.safety.stats import aefi_stats

    request = context.get("request")
    user = getattr(request, "user", None)
    if division is None or user is None or not can(user, "aefi.view"):
        return {"aefi": None}
    figures = aefi_stats(division, user=user)
    clusters = restrict(AefiCluster.objects.filter(status=ClusterStatus.OPEN,
                                                   division__path__startswith=division.path), user, "aefi.view")
    return {"aefi": {
        **figures, "open_clusters": clusters.count(),
        "url": reverse("safety:list") + "?" + urlencode({"division": division.code}),
        "clusters_url": reverse("safety:clusters"),
    }}
