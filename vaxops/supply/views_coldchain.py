"""Cold-chain pages: a store's temperature log (/supply/stores/<code>/temperatures/) and the
open excursions of the user's area (/supply/excursions/).

Thin: reads go through ``access.scope`` and ``supply.coldchain`` (the same reads as the API);
the forms call ``record_temperatures`` and ``review_excursion``, whose refusals are shown by
the form concerned.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from vaxops.access.scope import can, get_scoped, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date, format_datetime
from vaxops.core.models import Source
from vaxops.supply import coldchain
from vaxops.supply.forms_coldchain import MAX_FILE_BYTES, LoggerFileForm, ManualReadingForm, ReviewForm
from vaxops.supply.models import Excursion, ReadingSource, Store

DAYS_SHOWN = 7
STORES_LISTED = 60


def _error(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _window(request: HttpRequest, store: Store) -> tuple[dt.date, dt.date]:
    """The days shown: ``?to=`` (default: the day of the store's latest reading, else today)
    and the 6 days before it, or ``?from=``."""
    zone = timezone.get_default_timezone()
    latest = store.readings.order_by("-at").values_list("at", flat=True).first()
    default_to = min(latest, timezone.now()).astimezone(zone).date() if latest else timezone.localdate()
    last = _day(request.GET.get("to")) or default_to
    first = _day(request.GET.get("from")) or last - dt.timedelta(days=DAYS_SHOWN - 1)
    if first > last or (last - first).days > 91:
        first = last - dt.timedelta(days=DAYS_SHOWN - 1)
    return first, last


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def temperatures(request: HttpRequest, code: str) -> HttpResponse:
    """The log, the chart and, for those who record temperatures, the two entry forms."""
    try:
        store = get_scoped(Store.objects.select_related("division"), request.user, "stock.view",
                           not_found="store_not_found", detail={"store": code}, code=code)
    except VaxopsError as exc:
        return _error(request, exc)
    may_record = can(request.user, "temperature.record")
    manual = ManualReadingForm(prefix="manual", initial={"at": timezone.localtime().replace(second=0, microsecond=0)})
    upload = LoggerFileForm(prefix="logger")
    status, form_error = 200, None
    if request.method == "POST":
        which = request.POST.get("form")
        readings, kind, form = None, None, None
        if which == "manual":
            form = manual = ManualReadingForm(request.POST, prefix="manual")
            if form.is_valid():
                at = form.cleaned_data["at"]
                readings, kind = [(at if timezone.is_aware(at) else timezone.make_aware(at), form.cleaned_data["celsius"])], "manual"
        elif which == "logger":
            form = upload = LoggerFileForm(request.POST, request.FILES, prefix="logger")
            if form.is_valid():
                try:
                    raw = form.cleaned_data["file"].read(MAX_FILE_BYTES + 1)
                    if len(raw) > MAX_FILE_BYTES:
                        raise VaxopsError("body_too_large", {"limit_bytes": MAX_FILE_BYTES})
                    try:
                        text = raw.decode("utf-8-sig")
                    except UnicodeDecodeError:
                        # Chinese loggers' software often exports GB18030.
                        try:
                            text = raw.decode("gb18030")
                        except UnicodeDecodeError:
                            raise VaxopsError("import_bad_encoding", {"encoding": "UTF-8"}) from None
                    readings, kind = coldchain.parse_logger_csv(text), "logger"
                except VaxopsError as exc:
                    form_error = (which, exc)
        if readings is not None:
            try:
                accepted, opened = coldchain.record_temperatures(store_code=store.code, readings=readings, kind=kind,
                                                                 acting_user=request.user, source=Source.WEB)
            except VaxopsError as exc:
                form_error = (which, exc)
            else:
                query = {"done": kind, "accepted": accepted, "duplicates": len(readings) - accepted,
                         "opened": len(opened)}
                to = max(r[0] for r in readings).astimezone(timezone.get_default_timezone()).date()
                query["to"] = to.isoformat()
                return redirect(reverse("supply:temperatures", args=[store.code]) + "?" + urlencode(query))
        status = form_error[1].status if form_error else 422
    first, last = _window(request, store)
    context = _log_context(request, store, first, last)
    context.update({
        "manual": manual, "upload": upload, "may_record": may_record,
        "form_error": form_error[1] if form_error else None, "form_error_for": form_error[0] if form_error else "",
        "done": _done(request),
    })
    return render(request, "supply/temperatures.html", context, status=status)


def _done(request: HttpRequest) -> dict | None:
    if request.GET.get("done") not in ReadingSource.values:
        return None
    try:
        return {k: int(request.GET.get(k, "0")) for k in ("accepted", "duplicates", "opened")} | {
            "kind": request.GET["done"]}
    except ValueError:
        return None


def _log_context(request: HttpRequest, store: Store, first: dt.date, last: dt.date) -> dict:
    zone = timezone.get_default_timezone()
    lo = dt.datetime.combine(first, dt.time(), tzinfo=zone)
    hi = dt.datetime.combine(last + dt.timedelta(days=1), dt.time(), tzinfo=zone) - dt.timedelta(microseconds=1)
    now = timezone.now()
    ruleset = coldchain.rules()
    readings = list(coldchain.readings_between(request.user, store, lo, hi))
    excursions = list(restrict(Excursion.objects.filter(store=store), request.user, "stock.view")
                      .filter(started_at__lte=hi).exclude(ended_at__lt=lo).order_by("started_at"))
    for e in excursions:
        e.rule_label = coldchain.rule_name(e.rule)
        e.hours = coldchain.hours_open(e, now)
        e.started_text = format_datetime(e.started_at)
        e.ended_text = format_datetime(e.ended_at) if e.ended_at else None
    rows = []
    for r in readings:
        local = r.at.astimezone(zone)
        rows.append({"day": format_date(local), "time": f"{local:%H:%M}", "celsius": r.celsius,
                     "source": r.get_source_display(), "out": not (ruleset.low <= float(r.celsius) <= ruleset.high)})
    def wall(moment: dt.datetime) -> str:
        # Campaign wall-clock time without an offset: the chart reads it as local time, so it
        # shows Asia/Shanghai hours whatever the browser's own zone.
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S")

    chart = {
        "points": [[wall(r.at), float(r.celsius), r.source] for r in readings],
        "low": ruleset.low, "high": ruleset.high,
        "from": wall(lo), "to": wall(min(hi, max(now, lo))),
        "excursions": [{"start": wall(max(e.started_at, lo)), "end": wall(min(e.ended_at or now, hi)),
                        "name": e.rule_label, "open": e.status == "open"} for e in excursions],
        "labels": {"celsius": "°C", "band": "2–8 °C", "manual": str(ReadingSource.MANUAL.label),
                   "logger": str(ReadingSource.LOGGER.label)},
    }
    missing = coldchain.missing_readings(store, first, last, now=now)
    warnings = coldchain.warnings_between(store, lo, hi)
    days = (last - first).days + 1
    return {
        "store": store, "rows": rows, "chart_data": chart, "excursions": excursions,
        "missing": [{"day": format_date(m.day), "morning": m.morning, "afternoon": m.afternoon,
                     "too_close": m.too_close} for m in missing],
        "warnings": [{"day": format_date(w.day), "below": round(w.minutes_below), "above": round(w.minutes_above),
                      "lowest": w.lowest, "highest": w.highest} for w in warnings],
        "first": first, "last": last, "first_text": format_date(first), "last_text": format_date(last),
        "earlier": {"from": (first - dt.timedelta(days=days)).isoformat(),
                    "to": (first - dt.timedelta(days=1)).isoformat()},
        "later": {"from": (last + dt.timedelta(days=1)).isoformat(), "to": (last + dt.timedelta(days=days)).isoformat()},
        "equipment": store.get_equipment_class_display(),
        "rules": [coldchain.rule_name(r.code) for r in ruleset.for_class(store.equipment_class)],
    }


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def excursions(request: HttpRequest) -> HttpResponse:
    """Open excursions of the user's area, longest on hold first; a supervisor reviews them."""
    if not can(request.user, "excursion.view"):
        return render(request, "web/forbidden.html", {"forbidden_page": "excursions"}, status=403)
    error, failed_id, posted = None, None, None
    if request.method == "POST":
        try:
            excursion_id = int(request.POST.get("excursion", ""))
        except ValueError:
            excursion_id = 0
        form = ReviewForm(request.POST)
        form.is_valid()
        data = form.cleaned_data
        posted = {"decision": request.POST.get("decision", ""), "note": request.POST.get("note", "")}
        choice = data.get("decision") or request.POST.get("decision", "")
        decision = "release" if choice == "release_vvm" else choice
        try:
            reviewed = coldchain.review_excursion(excursion_id=excursion_id, decision=decision,
                                                  note=data.get("note", posted["note"]),
                                                  vvm_checked=choice == "release_vvm", acting_user=request.user,
                                                  source=Source.WEB)
        except VaxopsError as exc:
            error, failed_id = exc, excursion_id
        else:
            return redirect(reverse("supply:excursions") + "?" + urlencode({"done": reviewed.pk,
                                                                           "status": reviewed.status}))
    now = timezone.now()
    rows = list(coldchain.open_excursions(request.user)[:200])
    for e in rows:
        e.rule_label = coldchain.rule_name(e.rule)
        e.hours = coldchain.hours_open(e, now)
        e.started_text = format_datetime(e.started_at)
        e.ended_text = format_datetime(e.ended_at) if e.ended_at else None
        e.detected_text = format_datetime(e.detected_at)
        e.error = error if e.pk == failed_id else None
        e.posted = posted if e.pk == failed_id else {}
    done = None
    if request.GET.get("done", "").isdigit():
        done = (restrict(Excursion.objects.exclude(status="open"), request.user, "excursion.view")
                .select_related("store").filter(pk=int(request.GET["done"])).first())
    # The temperature logs this user may open (the way to a store's page from the menu).
    stores = list(restrict(Store.objects.filter(is_active=True), request.user, "stock.view")
                  .order_by("level", "code")[:STORES_LISTED])
    context = {
        "stores": stores, "more_stores": len(stores) == STORES_LISTED,
        "rows": rows, "may_review": can(request.user, "excursion.review"), "decisions": ReviewForm.DECISIONS,
        "done": done, "page_error": error if error is not None and failed_id not in {e.pk for e in rows} else None,
    }
    return render(request, "supply/excursions.html", context, status=error.status if error else 200)
