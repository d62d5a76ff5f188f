"""The session pages (/sessions/…): the county's week planner and one session's page.

Views are thin: reads go through ``vaxops.access.scope``, writes through
``vaxops.sites.sessions``; a refusal is shown in plain words beside the form (a refused opening
lists the missing readiness items).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vaxops.access.scope import admits, can, get_scoped, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date
from vaxops.core.models import Source
from vaxops.regions.models import Division
from vaxops.sites import sessions as service
from vaxops.sites.models import Session, SessionKind, SessionStatus, Site

WEEKDAY_NAMES = [gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"), gettext_lazy("Thu"),
                 gettext_lazy("Fri"), gettext_lazy("Sat"), gettext_lazy("Sun")]


class SessionForm(forms.Form):
    """A session to plan; an outreach session's stops as lines "village code HH:MM"."""

    site = forms.ChoiceField(label=gettext_lazy("Site"))
    date = forms.DateField(label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=SessionKind.choices)
    opens_at = forms.TimeField(label=gettext_lazy("Opens at"), widget=forms.TimeInput(attrs={"type": "time"}))
    closes_at = forms.TimeField(label=gettext_lazy("Closes at"), widget=forms.TimeInput(attrs={"type": "time"}))
    planned_doses = forms.IntegerField(label=gettext_lazy("Planned doses"), min_value=0, initial=0,
                                       widget=forms.NumberInput(attrs={"inputmode": "numeric"}))
    organisation = forms.CharField(label=gettext_lazy("Organisation served (point-to-point)"), required=False,
                                   max_length=120)
    stops = forms.CharField(
        label=gettext_lazy("Stops (outreach): one per line, the village and the arrival time"), required=False,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": gettext_lazy("village 09:30")}),
    )

    def __init__(self, *args: Any, sites: list[Site], villages: list[Division], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["site"].choices = [(s.code, s.name) for s in sites]
        self.villages = villages

    def clean_stops(self) -> list[tuple[str, dt.time | None]]:
        out = []
        by_name = {d.name_zh: d.code for d in self.villages} | {d.name_en: d.code for d in self.villages if d.name_en}
        for line in (self.cleaned_data.get("stops") or "").splitlines():
            parts = line.split()
            if not parts:
                continue
            at = None
            if len(parts) > 1:
                try:
                    at = dt.time.fromisoformat(parts[-1])
                    parts = parts[:-1]
                except ValueError:
                    at = None
            name = " ".join(parts)
            out.append((by_name.get(name, name), at))
        return out


def _refusal(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def _monday(value: str | None, today: dt.date) -> dt.date:
    try:
        day = dt.date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    return day - dt.timedelta(days=day.weekday())


def _counties(user: Any) -> list[Division]:
    codes = set(restrict(Site.objects.all(), user, "session.view").values_list("county_code", flat=True))
    return list(Division.objects.filter(code__in=codes).order_by("code"))


@login_required
@never_cache
@require_GET
def planner(request: HttpRequest) -> HttpResponse:
    """The county's week: its sites × the seven days, each session with its status, hours and
    planned doses."""
    if not can(request.user, "session.view"):
        return render(request, "sites/forbidden.html", status=403)
    counties = _counties(request.user)
    wanted = request.GET.get("county")
    county = next((c for c in counties if c.code == wanted), counties[0] if counties else None)
    today = service.today()
    monday = _monday(request.GET.get("week"), today)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    sites, grid = _grid(request.user, county, days)
    plannable = [s for s in sites if admits(request.user, "session.plan", Site,
                                            {"pk": s.pk, "division__path": s.division.path})]
    form = None
    if plannable:
        form = SessionForm(sites=plannable, villages=_villages(county),
                           initial={"date": today if monday <= today <= days[-1] else monday,
                                    "opens_at": "08:00", "closes_at": "17:00"})
    return render(request, "sites/planner.html", _planner_context(request, county, counties, monday, days, grid,
                                                                  form, today))


def _grid(user: Any, county: Division | None, days: list[dt.date]) -> tuple[list[Site], list[dict]]:
    """The county's sites the user sees × ``days``, each cell the sessions of that site and day."""
    sites = list(restrict(Site.objects.select_related("division"), user, "session.view")
                 .filter(county_code=county.code if county else "", is_active=True).order_by("code"))
    rows = (restrict(Session.objects.select_related("site"), user, "session.view")
            .filter(site__in=sites, date__range=(days[0], days[-1])).order_by("opens_at", "pk"))
    cells: dict[tuple[int, dt.date], list[Session]] = {}
    for s in rows:
        cells.setdefault((s.site_id, s.date), []).append(s)
    return sites, [{"site": site, "days": [{"day": d, "sessions": cells.get((site.pk, d), [])} for d in days]}
                   for site in sites]


def _villages(county: Division | None) -> list[Division]:
    if county is None:
        return []
    return list(Division.objects.filter(path__startswith=county.path, level__gte=4).order_by("code")[:2000])


def _planner_context(request, county, counties, monday, days, grid, form, today) -> dict[str, Any]:
    week = lambda d: f"?county={county.code if county else ''}&week={d.isoformat()}"  # noqa: E731
    return {
        "county": county, "counties": counties, "monday": monday, "grid": grid, "form": form, "today": today,
        "days": [{"day": d, "name": WEEKDAY_NAMES[d.weekday()], "words": format_date(d), "today": d == today}
                 for d in days],
        "previous_week": week(monday - dt.timedelta(days=7)), "next_week": week(monday + dt.timedelta(days=7)),
        "this_week": week(today), "week_words": f"{format_date(days[0])} – {format_date(days[-1])}",
        "can_plan": form is not None, "villages": _villages(county) if form is not None else [],
    }


@login_required
@require_POST
def plan_week(request: HttpRequest) -> HttpResponse:
    county = request.POST.get("county", "")
    monday = _monday(request.POST.get("week"), service.today())
    try:
        created = service.plan_week(county, monday, acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(count)d sessions planned from the templates.") % {"count": len(created)})
    return redirect(reverse("sites:planner") + f"?county={county}&week={monday.isoformat()}")


@login_required
@require_POST
def add_session(request: HttpRequest) -> HttpResponse:
    counties = _counties(request.user)
    county = next((c for c in counties if c.code == request.POST.get("county")), counties[0] if counties else None)
    sites = list(restrict(Site.objects.select_related("division"), request.user, "session.plan")
                 .filter(county_code=county.code if county else "", is_active=True).order_by("code"))
    form = SessionForm(request.POST, sites=sites, villages=_villages(county))
    if form.is_valid():
        d = form.cleaned_data
        try:
            session = service.create_session(
                site=d["site"], date=d["date"], kind=d["kind"], opens_at=d["opens_at"], closes_at=d["closes_at"],
                planned_doses=d["planned_doses"], organisation=d["organisation"], stops=d["stops"],
                acting_user=request.user, source=Source.WEB)
        except VaxopsError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Session planned."))
            return redirect("sites:session", session_id=session.pk)
    today = service.today()
    day = form.cleaned_data.get("date") if hasattr(form, "cleaned_data") else None
    monday = _monday((day or today).isoformat(), today)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    _sites, grid = _grid(request.user, county, days)
    return render(request, "sites/planner.html",
                  _planner_context(request, county, counties, monday, days, grid, form, today), status=422)


def _scoped(request: HttpRequest, session_id: int, action: str) -> Session:
    return get_scoped(Session.objects.select_related("site__division", "opened_by", "closed_by")
                      .prefetch_related("products", "stops__division"), request.user, action,
                      not_found="session_not_found", detail={"session_id": session_id}, pk=session_id)


def _item_label(code: str) -> str:
    """A readiness item's name in the active language (its code only if the checklist lost it)."""
    from vaxops.staff import reference

    return str(reference.item_name(code))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def session_page(request: HttpRequest, session_id: int) -> HttpResponse:
    """One session: details, stops, status, open and close, the closing figures."""
    try:
        session = _scoped(request, session_id, "session.view")
    except VaxopsError as exc:
        if exc.code == "permission_denied":
            return render(request, "sites/forbidden.html", status=403)
        return _refusal(request, exc)
    error, missing, status = None, [], 200
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "open":
                service.open_session(session, acting_user=request.user, source=Source.WEB)
                messages.success(request, _("The session is open."))
            elif action == "close":
                service.close_session(session, acting_user=request.user, source=Source.WEB)
                messages.success(request, _("The session is closed; its figures are final."))
            else:
                raise VaxopsError("invalid_request", {"field": "action"})
        except VaxopsError as exc:
            error, status = exc, exc.status
            missing = [_item_label(code) for code in exc.detail.get("missing", [])]
        else:
            return redirect("sites:session", session_id=session.pk)
    row = {"site_id": session.site_id, "site__division__path": session.site.division.path}
    figures = session.figures or {}
    return render(request, "sites/session.html", {
        "session": session, "error": error, "missing": missing, "figures": figures,
        "by_product": _by_product(figures.get("doses_by_product") or {}),
        "can_open": session.status == SessionStatus.PLANNED and admits(request.user, "session.open", Session, row),
        "can_close": session.status == SessionStatus.OPEN and admits(request.user, "session.close", Session, row),
        "day_words": format_date(session.date), "stops": list(session.stops.all()),
        "products": [p.name for p in session.products.all()],
        "week": (session.date - dt.timedelta(days=session.date.weekday())).isoformat(),
    }, status=status)


def _by_product(counts: dict[str, int]) -> list[tuple[str, int]]:
    from vaxops.catalog.messages import product_name

    return [(product_name(code), n) for code, n in sorted(counts.items())]
