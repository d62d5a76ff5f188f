"""Pages of the vaccination app: the supervisors' lists of overrides and retrospective entries.

Thin: the rows come from ``vaccination.review.review_doses`` (the same query as the API, scoped
by ``access.scope``); refusals are shown as a page with the error catalogue's status.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from vaxops.access.scope import restrict
from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date
from vaxops.regions.models import Division, Level
from vaxops.vaccination.forms import ReviewForm
from vaxops.vaccination.review import KIND_FILTERS, reason_label, recorder_name, review_doses

PAGE_SIZE = 50

TITLES = {
    "overrides": _("Doses given despite a refusal"),
    "retrospective": _("Doses recorded late"),
}
TAB_NAMES = {"overrides": _("Overrides"), "retrospective": _("Retrospective entries")}


def _when(value) -> dict[str, str]:
    local = value.astimezone(TZ)
    return {"date": format_date(local), "time": f"{local:%H:%M}"}


def _areas(request: HttpRequest) -> list[dict]:
    """Divisions the user may filter by: their area down to townships, in tree order."""
    divisions = restrict(Division.objects.filter(level__lte=Level.TOWNSHIP), request.user, "dose.review")
    rows = list(divisions.order_by("path").only("code", "name_zh", "name_en", "level", "path"))
    top = min((d.level for d in rows), default=0)
    return [{"code": d.code, "name": d.name, "depth": "\u2003" * (d.level - top)} for d in rows]


@login_required
@require_GET
def review(request: HttpRequest, kind: str) -> HttpResponse:
    """One list (overrides or retrospective entries) of the user's area, filtered and paged."""
    if kind not in KIND_FILTERS:
        raise Http404
    form = ReviewForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    page_number = filters.get("page") or 1
    try:
        page = review_doses(
            request.user, kind, division=filters.get("division") or None,
            date_from=filters.get("date_from"), date_to=filters.get("date_to"),
            limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE,
        )
    except VaxopsError as exc:
        if exc.code != "division_not_found":
            return render(request, "web/error.html", {"error": exc}, status=exc.status)
        form.add_error("division", exc.message)
        page = None
    query = {k: v for k, v in request.GET.items() if k != "page" and v}
    rows = [
        {
            "dose": d,
            "recorded": _when(d.recorded_at),
            "administered": _when(d.administered_at),
            "recorder": recorder_name(d),
            "reasons": [reason_label(code) for code in d.override_codes or []],
        }
        for d in (page.rows if page else [])
    ]
    context = {
        "kind": kind,
        "title": TITLES[kind],
        "tabs": [{"kind": k, "name": name} for k, name in TAB_NAMES.items()],
        "form": form,
        "areas": _areas(request),
        "selected_area": request.GET.get("division", ""),
        "page": page,
        "rows": rows,
        "first_shown": page.offset + 1 if page and page.rows else 0,
        "last_shown": page.offset + len(page.rows) if page else 0,
        "previous_url": "?" + urlencode({**query, "page": page_number - 1}) if page and page.has_previous else "",
        "next_url": "?" + urlencode({**query, "page": page_number + 1}) if page and page.has_next else "",
        "query": urlencode(query),
    }
    return render(request, "vaccination/review.html", context)
