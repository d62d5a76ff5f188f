"""The command dashboard: an area's figures as of a moment, in both views, with the report sentence.

Thin: the division is found through the access scope (``campaign.api.user_division``), the
figures come from ``campaign.services.summary``, and every percentage is rounded once, by
``core.formats.percent``, for the chart, the tables and the headline alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vaxops.access.scope import restrict
from vaxops.campaign.api import user_division
from vaxops.campaign.forms import DashboardForm
from vaxops.campaign.models import DoseCounter
from vaxops.campaign.report import report_sentence, report_time
from vaxops.campaign.services import ADMINISTERED, RECORDED, TZ, daily_doses, summary
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_percent, percent
from vaxops.regions.models import Division

# How many days the daily-doses chart goes back.
CHART_DAYS = 120


def campaign_moment() -> dt.datetime | None:
    """The moment the dashboard opens at when none is chosen (``VAXOPS_CAMPAIGN_MOMENT``, set by
    ``vaxops demo`` to the demo's report moment); ``None``: now, as a live campaign wants."""
    value = getattr(settings, "VAXOPS_CAMPAIGN_MOMENT", "") or ""
    if not value:
        return None
    moment = dt.datetime.fromisoformat(value)
    return timezone.make_aware(moment, TZ) if timezone.is_naive(moment) else moment


def _ancestors_in_area(request: HttpRequest, division: Division) -> list[Division]:
    """The divisions from the top of the user's area down to ``division`` (breadcrumbs)."""
    codes = [code for code in division.path.split("/") if code]
    return list(
        restrict(Division.objects.filter(code__in=codes), request.user, "stats.view").order_by("level")
    )


def _daily_series(request: HttpRequest, division: Division, at: dt.datetime, doses_total: int) -> dict:
    """Doses per day (by day of vaccination) up to ``at``: whole days from the counters, then the
    day of ``at`` so far.

    The last day is derived from the summary total (as administered) minus every earlier day,
    so it stops at ``at`` (the counters hold whole days) without scanning dose records.
    """
    day = at.date()
    before = daily_doses(division, day - dt.timedelta(days=1), days=CHART_DAYS - 1)
    earlier = restrict(
        DoseCounter.objects.filter(path__startswith=division.path, day__lt=day), request.user, "stats.view"
    ).aggregate(n=Sum("count"))["n"] or 0
    by_day = {row["day"]: row["doses"] for row in before}
    first = dt.date.fromisoformat(before[0]["day"]) if before else day
    days: list[str] = []
    doses: list[int] = []
    current = first
    while current < day:
        # Days without doses have no counter row; the chart shows them as zero, not as a gap.
        days.append(current.isoformat())
        doses.append(by_day.get(current.isoformat(), 0))
        current += dt.timedelta(days=1)
    days.append(day.isoformat())
    doses.append(max(doses_total - earlier, 0))
    return {"days": days, "doses": doses}


def _ratio(people: int, population: int) -> float | None:
    return people / population if population > 0 else None


def _rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The table rows: each child, then "not assigned to a child" when it holds anything."""
    rows = [{**c, "is_child": True} for c in figures["children"]]
    rest = figures["unassigned"]
    if any(rest[k] for k in ("doses_total", "population_18_plus")) or rest["residence"]["first_dose_people"]:
        rows.append({**rest, "is_child": False})
    for row in rows:
        res = row["residence"]
        # The raw ratio, so that the one rounding (core.formats.percent) happens once.
        row["coverage"] = _ratio(res["first_dose_people"], res["population_18_plus"])
    return rows


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Figures for the user's area (or a division within it) as of a chosen moment."""
    form = DashboardForm(request.GET or None)
    moment = campaign_moment()
    at = moment or timezone.now()
    at_chosen = False
    code = None
    view = ADMINISTERED
    if form.is_valid():
        at_chosen = form.cleaned_data["at"] is not None
        at = form.cleaned_data["at"] or at
        code = form.cleaned_data["division"] or None
        view = form.cleaned_data["view"] or ADMINISTERED
    at = at.astimezone(TZ)
    try:
        division = user_division(request.user, code)
    except VaxopsError as exc:
        return render(request, "web/error.html", {"error": exc}, status=exc.status)
    if not form.is_bound or form.is_valid():
        # Show the moment, division and view actually used ("now" when the field was left empty).
        form = DashboardForm(
            initial={"at": at.replace(second=0, microsecond=0), "division": division.code, "view": view}
        )

    figures = summary(division, at, view=view)
    administered = figures if view == ADMINISTERED else summary(division, at)
    # A division with a single child (the demo's province holds one prefecture) shows what
    # that child contains, so the page is never a single bar.
    breakdown_division, breakdown = division, figures
    if len(figures["children"]) == 1:
        only = Division.objects.get(code=figures["children"][0]["code"])
        if only.children.exists():
            breakdown_division, breakdown = only, summary(only, at, view=view)
    rows = _rows(breakdown)
    chart_rows = [r for r in rows if r["is_child"]]
    residence = figures["residence"]
    coverage = _ratio(residence["first_dose_people"], residence["population_18_plus"])
    chart_data = {
        "coverage": {
            "title": _("Residents aged 18+ with a first dose, by where they live"),
            "names": [r["name"] for r in chart_rows],
            "percent": [percent(r["coverage"]) for r in chart_rows],
            "labels": [format_percent(r["coverage"]) for r in chart_rows],
        },
        "daily": {
            "title": _("Doses per day (by day of vaccination)"),
            "series": _("Doses"),
            "partial": _("so far on the last day"),
            **_daily_series(request, division, at, administered["doses_total"]),
        },
    }
    params = {"division": division.code, "at": at.strftime("%Y-%m-%dT%H:%M"), "view": view}
    context = {
        "form": form,
        "division": division,
        "breadcrumbs": _ancestors_in_area(request, division),
        "at": at,
        "at_text": report_time(at),
        "moment_default": moment is not None and not at_chosen,
        "view": view,
        "other_view": RECORDED if view == ADMINISTERED else ADMINISTERED,
        "figures": figures,
        "coverage": coverage,
        "coverage_text": format_percent(coverage),
        "breakdown_division": breakdown_division,
        "breakdown": breakdown,
        "rows": rows,
        "children": figures["children"],
        "chart_data": chart_data,
        "sentence": report_sentence(
            division, at, doses=figures["doses_total"],
            first=figures["first_dose_people"], second=figures["second_dose_people"], view=view,
        ),
        "at_param": params["at"],
        "view_param": view,
    }
    return render(request, "campaign/dashboard.html", context)
