"""The daily report page (/reports/daily/): the report of a division for a day at a cut-off, as a
printable A4 page, with its xlsx download and, for those who may, the button that issues it.

Thin: the division through ``api.report_division`` (the access scope), the document from
``reports.daily``, the issue through ``reports.services``; numbers are formatted here once for
the page (the document keeps them as numbers).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from vaxops.access.scope import admits, restrict
from vaxops.campaign.report import grouped
from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_datetime, format_percent
from vaxops.core.models import Source
from vaxops.regions.models import Division
from vaxops.reports import services
from vaxops.reports.api import report_division, xlsx_response
from vaxops.reports.daily import DEFAULT_CUTOFF, daily_report, parse_cutoff
from vaxops.reports.forms import ReportForm
from vaxops.reports.xlsx import PERCENT_COLUMNS


def default_day(cutoff: str = DEFAULT_CUTOFF) -> dt.date:
    """The last day whose cut-off has passed: today after 19:00, else yesterday (at the campaign
    moment the demo sets, that moment's day)."""
    from vaxops.campaign.views import campaign_moment

    now = (campaign_moment() or timezone.now()).astimezone(TZ)
    hour, minute = parse_cutoff(cutoff)
    passed = (now.hour, now.minute) >= (hour, minute)
    return now.date() if passed else now.date() - dt.timedelta(days=1)


def _cells(section: dict[str, Any]) -> list[list[dict[str, Any]]]:
    percent = PERCENT_COLUMNS.get(section["key"], set())
    out = []
    for row in section["rows"]:
        cells = []
        for i, value in enumerate(row):
            if i in percent and isinstance(value, int | float) or i in percent and value is None:
                cells.append({"text": format_percent(value), "num": True})
            elif isinstance(value, bool) or value is None:
                cells.append({"text": "–" if value is None else str(value), "num": value is None})
            elif isinstance(value, int):
                cells.append({"text": grouped(value), "num": True})
            elif isinstance(value, float):
                cells.append({"text": f"{value:,.1f}", "num": True})
            else:
                cells.append({"text": str(value), "num": False})
        out.append(cells)
    return out


def _params(request: HttpRequest) -> tuple[ReportForm, str | None, dt.date | None, str]:
    form = ReportForm(request.GET or None)
    code, day, cutoff = None, None, DEFAULT_CUTOFF
    if form.is_valid():
        code = form.cleaned_data["division"] or None
        day = form.cleaned_data["date"]
        cutoff = (form.cleaned_data["cutoff"] or DEFAULT_CUTOFF).strip()
    return form, code, day, cutoff


def _refusal(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    if exc.code == "permission_denied":
        return render(request, "web/forbidden.html", status=403)
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


@login_required
@require_GET
def daily(request: HttpRequest) -> HttpResponse:
    form, code, day, cutoff = _params(request)
    try:
        division = report_division(request.user, code)
        day = day or default_day(cutoff)
        doc = daily_report(division, day, cutoff, user=request.user)
    except VaxopsError as exc:
        return _refusal(request, exc)
    query = urlencode({"division": division.code, "date": day.isoformat(), "cutoff": cutoff})
    form = ReportForm(initial={"division": division.code, "date": day, "cutoff": cutoff})
    children = list(restrict(Division.objects.filter(parent=division), request.user, "report.view").order_by("code"))
    ancestors = list(restrict(Division.objects.filter(code__in=[c for c in division.path.split("/") if c]),
                              request.user, "report.view").order_by("level"))
    sections = [{**s, "cells": _cells(s)} for s in doc["sections"]]
    can_issue = doc["status"] == "draft" and admits(request.user, "report.issue", Division,
                                                     {"path": division.path})
    return render(request, "reports/daily.html", {
        "form": form, "doc": doc, "division": division, "day": day, "cutoff": cutoff, "query": query,
        "sections": sections, "children": children, "ancestors": ancestors, "can_issue": can_issue,
        "issued_at_text": format_datetime(doc["issued_at"]) if doc.get("issued_at") else "",
        "xlsx_url": reverse("reports:daily_xlsx") + "?" + query,
    })


@login_required
@require_GET
def daily_xlsx(request: HttpRequest) -> HttpResponse:
    _form, code, day, cutoff = _params(request)
    try:
        division = report_division(request.user, code)
        doc = daily_report(division, day or default_day(cutoff), cutoff, user=request.user)
    except VaxopsError as exc:
        return _refusal(request, exc)
    return xlsx_response(doc)


@login_required
@require_POST
def issue(request: HttpRequest) -> HttpResponse:
    form = ReportForm(request.POST)
    if not form.is_valid() or form.cleaned_data["date"] is None:
        messages.error(request, _("Choose the division, the date and the cut-off of the report to issue."))
        return redirect("reports:daily")
    code = form.cleaned_data["division"]
    day = form.cleaned_data["date"]
    cutoff = (form.cleaned_data["cutoff"] or DEFAULT_CUTOFF).strip()
    back = reverse("reports:daily") + "?" + urlencode({"division": code, "date": day.isoformat(), "cutoff": cutoff})
    try:
        report = services.issue_daily_report(division_code=code, day=day, cutoff=cutoff, acting_user=request.user,
                                             source=Source.WEB)
    except VaxopsError as exc:
        if exc.code in {"permission_denied", "division_not_found", "not_authenticated"}:
            return _refusal(request, exc)
        messages.error(request, exc.message)
        return redirect(back)
    messages.success(request, _("The report is issued and frozen (SHA-256 %(hash)s). Corrections entered from now "
                                "on appear as late entries in the next report.") % {"hash": report.sha256[:16]})
    return redirect(back)
