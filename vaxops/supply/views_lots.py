"""The lot pages under /supply/lots/: the lots with their stock in the user's area, and one
lot's trace with the quarantine / recall / release form and the recipients for a recall notice.

Reads go through ``vaxops.supply.lots`` (which applies ``access.scope``); the status change is
``lots.quarantine_lot`` / ``recall_lot`` / ``release_lot``.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from vaxops.access.scope import can, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date, format_datetime
from vaxops.core.models import Source
from vaxops.supply import lots
from vaxops.supply.api import recipients_csv_response
from vaxops.supply.models import Lot, LotStatus, StockBalance

LOTS_PER_PAGE = 100
RECIPIENTS_SHOWN = 50
ACTIONS = {
    "quarantine": (lots.quarantine_lot, LotStatus.QUARANTINED),
    "recall": (lots.recall_lot, LotStatus.RECALLED),
    "release": (lots.release_lot, LotStatus.RELEASED),
}


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "supply/forbidden.html", status=403)


def _error(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def expiry_words(expiry: dt.date, today: dt.date) -> str:
    """The expiry date in words with how far it is (or that it has passed)."""
    days = (expiry - today).days
    when = format_date(expiry)
    if days < 0:
        return _("expired on %(date)s") % {"date": when}
    if days == 0:
        return _("expires today (%(date)s)") % {"date": when}
    if days <= 60:
        return _("%(date)s, in %(days)s days") % {"date": when, "days": days}
    return when


def _detail_url(lot: Lot, shared: bool) -> str:
    url = reverse("supply:lot", args=[lot.lot_number])
    return url + "?" + urlencode({"product": lot.product.code}) if shared else url


@login_required
@never_cache
@require_GET
def lot_list(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "lot.trace"):
        return _forbidden(request)
    typed = request.GET.get("q", "").strip()
    query = lots.lot_number_from_scan(typed) if typed else ""
    qs = restrict(Lot.objects.select_related("product"), request.user, "lot.view")
    if query:
        exact = list(qs.filter(lot_number__iexact=query)[:2])
        if len(exact) == 1:
            return redirect(_detail_url(exact[0], shared=False))
        qs = qs.filter(lot_number__icontains=query)
    numbers = {}
    for number in qs.values_list("lot_number", flat=True):
        numbers[number] = numbers.get(number, 0) + 1
    page = Paginator(qs.order_by("product__code", "expiry_date", "lot_number"), LOTS_PER_PAGE).get_page(
        request.GET.get("page"))
    ids = [x.pk for x in page]
    on_hand = dict(
        restrict(StockBalance.objects.filter(lot_id__in=ids), request.user, "lot.trace")
        .values_list("lot_id").annotate(total=Sum("on_hand")).order_by()
    )
    today = timezone.localdate()
    rows = [
        {"lot": x, "url": _detail_url(x, numbers.get(x.lot_number, 0) > 1), "expiry": expiry_words(x.expiry_date, today),
         "expired": x.expiry_date < today, "on_hand": on_hand.get(x.pk, 0)}
        for x in page
    ]
    return render(request, "supply/lots.html", {"rows": rows, "page": page, "q": typed, "query": query})


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def lot_detail(request: HttpRequest, lot_number: str) -> HttpResponse:
    if not can(request.user, "lot.trace"):
        return _forbidden(request)
    product = request.GET.get("product") or request.POST.get("product") or None
    form_error: VaxopsError | None = None
    reason = ""
    status = 200
    if request.method == "POST":
        action = request.POST.get("action", "")
        reason = request.POST.get("reason", "")
        if action not in ACTIONS:
            return _error(request, VaxopsError("invalid_request", {"field": "action"}))
        change, _to = ACTIONS[action]
        try:
            lot = change(lot_number=lot_number, reason=reason, product_code=product, acting_user=request.user,
                         source=Source.WEB)
        except VaxopsError as exc:
            if exc.code in ("not_authenticated", "permission_denied"):
                return _forbidden(request)
            if exc.code in ("lot_not_found", "lot_product_required"):
                return _error(request, exc)
            form_error, status = exc, exc.status
        else:
            messages.success(request, _("Lot %(lot)s is now %(status)s.") % {
                "lot": lot.lot_number, "status": LotStatus(lot.status).label})
            return redirect(_detail_url(lot, shared=bool(product)))
    try:
        t = lots.trace(lot_number, user=request.user, product_code=product)
    except VaxopsError as exc:
        return _error(request, exc)
    lot: Lot = t["_lot"]
    context = {
        "t": t, "lot": lot, "product_param": product or "", "form_error": form_error, "reason": reason,
        "expiry": expiry_words(lot.expiry_date, timezone.localdate()),
        "changed_at": format_datetime(lot.status_changed_at) if lot.status_changed_at else "",
        "can_change": can(request.user, "lot.quarantine"),
        "actions": [a for a, (_fn, to) in ACTIONS.items() if to != lot.status],
        "reconciles": t["received"] == t["on_hand"] + t["in_transit"] + t["administered"] + t["wasted"],
        "chart": {
            "names": [r["county_name"] for r in t["recipients_by_county"]],
            "counts": [r["count"] for r in t["recipients_by_county"]],
            "series": _("Recipients"),
        },
    }
    if lots.may_see_recipients(request.user):
        _lot, doses = lots.recipients(lot_number, user=request.user, product_code=product)
        shown = lots.recipient_rows(doses[:RECIPIENTS_SHOWN])
        if shown:
            lots.log_recipients_read(lot, user=request.user, source=Source.WEB, fmt="page", count=len(shown))
        context.update(recipients=shown, recipients_count=t["dose_records"], may_see_recipients=True,
                       csv_url=reverse("supply:lot_recipients_csv", args=[lot.lot_number])
                       + ("?" + urlencode({"product": product}) if product else ""))
    return render(request, "supply/lot.html", context, status=status)


@login_required
@require_GET
def lot_recipients_csv(request: HttpRequest, lot_number: str) -> HttpResponse:
    try:
        return recipients_csv_response(request, lot_number, request.GET.get("product") or None, source=Source.WEB)
    except VaxopsError as exc:
        if exc.code == "permission_denied":
            return _forbidden(request)
        return _error(request, exc)
