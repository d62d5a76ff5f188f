"""The targets page: a division's targets and its children's progress, ranked, and (for the
level above) a form to set a child's target. Thin: reads through ``campaign.api.user_division``
and ``targets.services.progress_items``, the write through ``targets.services.set_target``."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _

from vaxops.access.scope import can
from vaxops.campaign.api import user_division
from vaxops.campaign.views import campaign_moment
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source

from .api import moment
from .labels import base_words, day_words, status_words, target_name
from .models import Metric
from .services import progress_items, set_target


def decorated(items: list[dict]) -> list[dict]:
    """Progress items with the words a page shows."""
    return [{**i, "name": target_name(i["metric"], i["due"]), "base_words": base_words(i["base"]),
             "projected_words": day_words(i["projected_date"]), "status_words": status_words(i["status"]),
             "met_words": day_words(i["met_on"]), "bar": min(100, i["percent"] or 0)} for i in items]


@login_required
def progress(request: HttpRequest) -> HttpResponse:
    code = request.GET.get("division") or request.POST.get("parent") or None
    raw = request.GET.get("at") or ""
    try:
        at = dt.datetime.fromisoformat(raw) if raw else (campaign_moment() or timezone.now())
    except ValueError:
        at = campaign_moment() or timezone.now()
    try:
        division = user_division(request.user, code)
    except VaxopsError as exc:
        return render(request, "web/error.html", {"error": exc}, status=exc.status)
    if request.method == "POST":
        try:
            set_target(division_code=request.POST.get("division", ""), metric=request.POST.get("metric", ""),
                       base=request.POST.get("base", ""), value=request.POST.get("value", ""),
                       due=request.POST.get("due", ""), starts=request.POST.get("starts") or None,
                       kind=request.POST.get("kind") or None, acting_user=request.user, source=Source.WEB)
        except VaxopsError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("The target was set."))
            return redirect(request.path + "?" + urlencode({"division": division.code}))
    when = moment(at)
    items = decorated(progress_items(division, when, request.user))
    return render(request, "targets/progress.html", {
        "division": division, "at": when, "at_param": when.strftime("%Y-%m-%dT%H:%M"),
        "own": [i for i in items if not i["is_child"]], "children": [i for i in items if i["is_child"]],
        "can_set": can(request.user, "target.set"), "child_divisions": division.children.all(),
        "metrics": Metric.choices,
    })
