"""Web pages: the shell (login, logout, error pages) and the command dashboard.

The site desk lives in ``vaxops.vaccination.desk``.

Views are thin: they read through ``vaxops.access.scope`` (or the API helpers built on it),
write through the services, and turn every ``VaxopsError`` into a message on the page. A
request sent by HTMX (``HX-Request``) gets only the part of the page that changes; the same
URL without HTMX returns the whole page, so every step also works without JavaScript.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from vaxops.access.scope import restrict
from vaxops.campaign.api import user_division
from vaxops.campaign.models import DoseCounter
from vaxops.campaign.services import TZ, daily_doses, summary
from vaxops.core.errors import VaxopsError
from vaxops.regions.models import Division
from vaxops.web.forms import DashboardForm
from vaxops.web.report import report_sentence

# How many days the daily-doses chart goes back.
CHART_DAYS = 120


class LoginView(auth_views.LoginView):
    """Django's login view with the vaxops page; sessions and CSRF as Django provides them."""

    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """Log out by POST only (a link could be triggered by any page the user visits)."""


def _is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def error_page(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    """A refusal as a page in plain words, with the status the error catalogue gives it."""
    template = "web/_error.html" if _is_htmx(request) else "web/error.html"
    return render(request, template, {"error": exc}, status=exc.status)


# -- dashboard ---------------------------------------------------------------------------------


def _ancestors_in_area(request: HttpRequest, division: Division) -> list[Division]:
    """The divisions from the top of the user's area down to ``division`` (breadcrumbs)."""
    codes = [code for code in division.path.split("/") if code]
    return list(
        restrict(Division.objects.filter(code__in=codes), request.user, "stats.view").order_by("level")
    )


def _daily_series(request: HttpRequest, division: Division, at: dt.datetime, doses_total: int) -> dict:
    """Doses per day up to ``at``: whole days from the counters, then the day of ``at`` so far.

    The last day is derived from the summary total minus every earlier day, so it stops at
    ``at`` (the counters hold whole days) without scanning dose records.
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


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    """Figures for the user's area (or a division within it) as of a chosen moment."""
    form = DashboardForm(request.GET or None)
    at = timezone.now()
    code = None
    if form.is_valid():
        at = form.cleaned_data["at"] or at
        code = form.cleaned_data["division"] or None
    at = at.astimezone(TZ)
    try:
        division = user_division(request.user, code)
    except VaxopsError as exc:
        return error_page(request, exc)
    if not form.is_bound or form.is_valid():
        # Show the moment and division actually used ("now" when the field was left empty).
        form = DashboardForm(initial={"at": at.replace(second=0, microsecond=0), "division": division.code})

    figures = summary(division, at)
    children = figures["children"]
    population = figures["population_18_plus"]
    chart_data = {
        "coverage": {
            "title": _("First-dose coverage of people aged 18 and over"),
            "names": [c["name"] for c in children],
            "percent": [
                None if c["first_dose_coverage_18_plus"] is None else round(c["first_dose_coverage_18_plus"] * 100, 2)
                for c in children
            ],
        },
        "daily": {
            "title": _("Doses per day"),
            "series": _("Doses"),
            "partial": _("so far on the last day"),
            **_daily_series(request, division, at, figures["doses_total"]),
        },
    }
    context = {
        "form": form,
        "division": division,
        "breadcrumbs": _ancestors_in_area(request, division),
        "at": at,
        "figures": figures,
        "coverage": figures["first_dose_people"] / population if population else None,
        "children": children,
        "chart_data": chart_data,
        "sentence": report_sentence(
            division, at, doses=figures["doses_total"],
            first=figures["first_dose_people"], second=figures["second_dose_people"],
        ),
        "at_param": at.strftime("%Y-%m-%dT%H:%M"),
    }
    return render(request, "web/dashboard.html", context)
