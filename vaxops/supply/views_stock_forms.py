"""The forms that move stock: receive a shipment, dispatch a transfer, receive a transfer (the
transfers waiting at the user's stores), supply a missing arrival temperature, count, adjust.

Each POST calls one service of ``vaxops.supply.services`` (one durable transaction, nothing
written when it refuses) and shows its ``VaxopsError`` message beside the field concerned, in
the user's language, with what was typed kept. A success redirects to the store's page with a
message (so a reload does not post again); a double submit of a form with a ``client_uuid``
is a replay of the first.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from vaxops.access.scope import can, get_scoped, restrict
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.supply import services
from vaxops.supply.forms_stock import AdjustForm, DispatchForm, ReceiptForm, ReceiveForm, TemperatureForm
from vaxops.supply.models import (
    LotStatus,
    ReasonType,
    StockBalance,
    StockReason,
    Store,
    Transfer,
    TransferStatus,
)
from vaxops.supply.store_figures import receipts_waiting_for_temperature, visible_stores
from vaxops.supply.views_stock import forbidden, refusal, scoped_store

# Which field a service refusal belongs beside; a refusal naming a lot goes beside that lot's
# line; anything else above the form.
ERROR_FIELDS = {
    "store_not_found": "store",
    "product_not_found": "product",
    "lot_not_found": "lot_number",
    "lot_wrong_product": "lot_number",
    "lot_expired": "expiry_date",
    "lot_expired_on_receipt": "expiry_date",
    "invalid_quantity": "doses",
    "insufficient_stock": "doses",
    "arrival_temperature_out_of_range": "arrival_temperature_c",
    "temperature_out_of_range": "arrival_temperature_c",
    "invalid_route": "to_store",
    "unknown_reason": "reason",
    "reason_not_allowed": "reason",
}
_WHOLE_NUMBER = forms.IntegerField()


def _place_error(form: forms.Form, exc: VaxopsError) -> None:
    field = ERROR_FIELDS.get(exc.code)
    form.add_error(field if field in form.fields else None, exc.message)


def _whole(raw: str) -> tuple[int | None, str | None]:
    """A typed number of doses: (value, None), or (None, the message why it is not one)."""
    try:
        return _WHOLE_NUMBER.clean(raw), None
    except ValidationError as exc:
        return None, " ".join(exc.messages)


def _focus_first(form: forms.Form, order: list[str]) -> None:
    """Autofocus the first field with an error, else the first of ``order``."""
    wrong = [name for name in order if form.errors.get(name)]
    name = (wrong or order or [None])[0]
    if name:
        form.fields[name].widget.attrs["autofocus"] = True


def _done(request: HttpRequest, store_code: str, text: str) -> HttpResponse:
    messages.success(request, text)
    return redirect("supply:store", store_code)


# -- receive a shipment from a manufacturer ----------------------------------------------------

RECEIPT_ORDER = ["store", "product", "lot_number", "expiry_date", "manufacturer", "release_certificate", "doses",
                 "arrival_temperature_c"]


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def receipt(request: HttpRequest) -> HttpResponse:
    """A manufacturer's delivery into one of the user's stores."""
    if not can(request.user, "stock.receive_shipment"):
        return forbidden(request)
    stores = list(visible_stores(request.user, "stock.receive_shipment"))
    products = list(Product.objects.filter(is_active=True))  # catalogue reference data
    status = 200
    if request.method == "POST":
        form = ReceiptForm(request.POST, stores=stores, products=products)
        if form.is_valid():
            data = form.cleaned_data
            try:
                event, replayed = services.receive_shipment(
                    client_uuid=data["client_uuid"], store_code=data["store"], product_code=data["product"],
                    lot_number=data["lot_number"].strip(), expiry_date=data["expiry_date"], doses=data["doses"],
                    manufacturer=data["manufacturer"].strip(),
                    release_certificate=data["release_certificate"].strip(),
                    arrival_temperature_c=data["arrival_temperature_c"], acting_user=request.user,
                    source=Source.WEB,
                )
            except VaxopsError as exc:
                _place_error(form, exc)
                status = exc.status
            else:
                held = bool(event.detail.get("on_hold"))
                text = _("Received %(doses)s doses of lot %(lot)s.") % {"doses": data["doses"],
                                                                       "lot": data["lot_number"].strip()}
                if held:
                    text += " " + _("Without the arrival temperature the doses are on hold until it is supplied.")
                if replayed:
                    text = _("This receipt was already recorded; nothing was added.")
                return _done(request, data["store"], text)
        else:
            status = 422
    else:
        chosen = request.GET.get("store") or (stores[0].code if stores else "")
        form = ReceiptForm(initial={"client_uuid": uuid.uuid4(), "store": chosen}, stores=stores,
                           products=products)
    _focus_first(form, RECEIPT_ORDER)
    return render(request, "supply/receipt.html", {"form": form, "order": RECEIPT_ORDER}, status=status)


# -- dispatch a transfer ---------------------------------------------------------------------


def destinations(store: Store) -> list[Store]:
    """The stores ``store`` may send to: its children, its siblings under the same parent, and
    its parent (the valid routes; the service checks them again)."""
    route = Q(parent=store)
    if store.parent_id:
        route |= Q(parent_id=store.parent_id) | Q(pk=store.parent_id)
    # Route targets, not data of an area: a county sends to its prefecture outside its own area.
    return list(Store.objects.filter(route, is_active=True).exclude(pk=store.pk).order_by("level", "code"))


def lots_to_send(store: Store, user: Any) -> tuple[list[StockBalance], int]:
    """The store's lots that may be sent, earliest expiry first (China 2017 rules, Art. 18:
    issue by earliest expiry), and how many lots on hand may not (on hold, expired,
    quarantined, recalled: the service would refuse them)."""
    qs = restrict(StockBalance.objects.filter(store=store, on_hand__gt=0), user, "stock.view")
    today = timezone.localdate()
    lots = list(qs.select_related("lot__product").order_by("lot__expiry_date", "lot__lot_number"))
    usable = [b for b in lots if not (b.on_hold or store.on_hold) and b.lot.status == LotStatus.RELEASED
              and b.lot.expiry_date >= today]
    return usable, len(lots) - len(usable)


def _line_for(exc: VaxopsError) -> str | None:
    lot = exc.detail.get("lot_number") if isinstance(exc.detail, dict) else None
    return str(lot) if lot not in (None, "") else None


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def dispatch(request: HttpRequest, code: str) -> HttpResponse:
    """Send lots from this store to one of its valid destinations."""
    try:
        store = scoped_store(request.user, code, "stock.dispatch")
    except VaxopsError as exc:
        return refusal(request, exc)
    lots, not_offered = lots_to_send(store, request.user)
    choices = [(s.code, f"{s.name} ({s.code})") for s in destinations(store)]
    typed: dict[int, str] = {}
    line_errors: dict[int, str] = {}
    status = 200
    if request.method == "POST":
        form = DispatchForm(request.POST, destinations=choices)
        lines = []
        for b in lots:
            raw = typed[b.lot_id] = request.POST.get(f"doses_{b.lot_id}", "").strip()
            if not raw:
                continue
            value, problem = _whole(raw)
            if problem:
                line_errors[b.lot_id] = problem
            elif value != 0:
                lines.append(services.TransferLineIn(lot_number=b.lot.lot_number, doses=value))
        if form.is_valid() and not line_errors:
            data = form.cleaned_data
            try:
                transfer, replayed = services.dispatch_transfer(
                    client_uuid=data["client_uuid"], from_store_code=store.code, to_store_code=data["to_store"],
                    lines=lines, acting_user=request.user, source=Source.WEB,
                )
            except VaxopsError as exc:
                by_number = {b.lot.lot_number: b.lot_id for b in lots}
                lot_id = by_number.get(_line_for(exc) or "")
                if lot_id is not None:
                    line_errors[lot_id] = exc.message
                elif exc.code == "invalid_route":
                    form.add_error("to_store", exc.message)
                else:
                    form.add_error(None, exc.message)
                status = exc.status
            else:
                if replayed:
                    return _done(request, store.code, _("This transfer was already dispatched; nothing was added."))
                total = sum(line.doses for line in lines)
                return _done(request, store.code, _("Transfer %(id)s dispatched to %(store)s: %(doses)s doses in transit.")
                             % {"id": transfer.pk, "store": transfer.to_store.name, "doses": total})
        else:
            status = 422
    else:
        form = DispatchForm(initial={"client_uuid": uuid.uuid4()}, destinations=choices)
    rows = [{"balance": b, "value": typed.get(b.lot_id, ""), "error": line_errors.get(b.lot_id)} for b in lots]
    if form.errors or not line_errors:
        _focus_first(form, ["to_store"])
    else:  # the first lot in error has the focus
        next(r for r in rows if r["error"])["focus"] = True
    return render(request, "supply/dispatch.html", {"store": store, "form": form, "rows": rows,
                                                    "not_offered": not_offered}, status=status)


# -- the transfers waiting at the user's stores ------------------------------------------------


def _receiving_transfers(user: Any):
    """Transfers to stores where the user may receive (through both scope filters)."""
    stores = visible_stores(user, "stock.receive")
    return restrict(Transfer.objects.all(), user, "stock.receive").filter(to_store__in=stores).select_related(
        "from_store", "to_store").prefetch_related("lines__lot__product", "lines__rejection_reason")


def rejection_reasons() -> list[StockReason]:
    """What a rejected dose may be written off as: the manual debit reasons (broken, expired…)."""
    return list(StockReason.objects.filter(manual=True, type=ReasonType.DEBIT).order_by("code"))


def _receive_rows(transfer: Transfer, post: Any = None, errors: dict[int, str] | None = None) -> list[dict]:
    rows = []
    for line in transfer.lines.all():
        rows.append({
            "line": line,
            "accepted": post.get(f"accepted_{line.pk}", "") if post is not None else line.doses,
            "rejected": post.get(f"rejected_{line.pk}", "") if post is not None else 0,
            "reason": post.get(f"reason_{line.pk}", "") if post is not None else "",
            "error": (errors or {}).get(line.pk),
        })
    return rows


def _waiting_page(request: HttpRequest, *, bound: Transfer | None = None, bound_receipt: int | None = None,
                  form: forms.Form | None = None,
                  line_errors: dict[int, str] | None = None, status: int = 200) -> HttpResponse:
    qs = _receiving_transfers(request.user)
    chosen = request.GET.get("store", "")
    if chosen:
        qs = qs.filter(to_store__code=chosen)
    waiting = list(qs.filter(status=TransferStatus.IN_TRANSIT).order_by("dispatched_at", "pk"))
    on_hold = list(qs.filter(status=TransferStatus.RECEIVED_ON_HOLD).order_by("received_at", "pk"))
    cards = []
    for t in waiting:
        mine = bound is not None and t.pk == bound.pk
        f = form if mine and isinstance(form, ReceiveForm) else ReceiveForm(prefix=f"t{t.pk}")
        cards.append({"transfer": t, "form": f, "errors": bool(mine and line_errors),
                      "rows": _receive_rows(t, request.POST if mine else None, line_errors if mine else None)})
    held = []
    for t in on_hold:
        mine = bound is not None and t.pk == bound.pk
        f = form if mine and isinstance(form, TemperatureForm) else TemperatureForm(prefix=f"h{t.pk}")
        held.append({"transfer": t, "form": f})
    for line in receipts_waiting_for_temperature(request.user, chosen):
        mine = bound_receipt is not None and line.event_id == bound_receipt
        f = form if mine else TemperatureForm(prefix=f"r{line.event_id}")
        held.append({"receipt": line, "form": f})
    # The form in error, else the first transfer's, has the focus (its first field).
    target = next((c for c in cards + held if c["form"].errors or c.get("errors")), None) or next(
        iter(cards + held), None)
    if target is not None:
        wrong = [name for name in target["form"].errors if name in target["form"].fields]
        rows = target.get("rows") or []
        if rows and not wrong:
            (next((r for r in rows if r["error"]), None) or rows[0])["focus"] = True
        else:
            target["form"].fields[(wrong or ["arrival_temperature_c"])[0]].widget.attrs["autofocus"] = True
    return render(request, "supply/waiting.html", {
        "cards": cards, "held": held, "reasons": rejection_reasons(), "chosen_store": chosen,
        "stores": list(visible_stores(request.user, "stock.receive")),
    }, status=status)


@login_required
@never_cache
@require_http_methods(["GET"])
def waiting(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "stock.receive"):
        return forbidden(request)
    return _waiting_page(request)


def _scoped_transfer(user: Any, transfer_id: int) -> Transfer:
    return get_scoped(_receiving_transfers(user), user, "stock.receive", not_found="transfer_not_found",
                      pk=transfer_id)


@login_required
@require_POST
def receive(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """Proof of delivery of one transfer: per line accepted and rejected, the temperature."""
    try:
        transfer = _scoped_transfer(request.user, transfer_id)
    except VaxopsError as exc:
        return refusal(request, exc)
    form = ReceiveForm(request.POST, prefix=f"t{transfer.pk}")
    line_errors: dict[int, str] = {}
    lines = []
    for line in transfer.lines.all():
        accepted, problem_a = _whole(request.POST.get(f"accepted_{line.pk}", ""))
        rejected_raw = request.POST.get(f"rejected_{line.pk}", "").strip() or "0"
        rejected, problem_r = _whole(rejected_raw)
        if problem_a or problem_r:
            line_errors[line.pk] = problem_a or problem_r
            continue
        reason = request.POST.get(f"reason_{line.pk}", "").strip() or None
        lines.append(services.ReceiptLineIn(lot_number=line.lot.lot_number, accepted=accepted, rejected=rejected,
                                            rejection_reason=reason if rejected else None))
    if not form.is_valid() or line_errors:
        return _waiting_page(request, bound=transfer, form=form, line_errors=line_errors, status=422)
    data = form.cleaned_data
    try:
        received = services.receive_transfer(
            transfer_id=transfer.pk, lines=lines, arrival_temperature_c=data["arrival_temperature_c"],
            delivered_by=data["delivered_by"].strip(), acting_user=request.user, source=Source.WEB,
        )
    except VaxopsError as exc:
        transfer.refresh_from_db(fields=["status", "received_by"])
        if exc.code == "transfer_not_in_transit":
            if transfer.received_by_id == request.user.pk:
                # The same form sent twice: the first one received it.
                return _done(request, transfer.to_store.code,
                             _("Transfer %(id)s was already received.") % {"id": transfer.pk})
            # Received meanwhile by someone else: its card is gone, so say it above the list.
            messages.error(request, exc.message)
            return redirect("supply:waiting")
        lot_lines = {line.lot.lot_number: line.pk for line in transfer.lines.all()}
        line_pk = lot_lines.get(_line_for(exc) or "")
        if line_pk is not None:
            line_errors[line_pk] = exc.message
        else:
            _place_error(form, exc)
        return _waiting_page(request, bound=transfer, form=form, line_errors=line_errors, status=exc.status)
    if received.status == TransferStatus.RECEIVED_ON_HOLD:
        text = _("Transfer %(id)s received on hold: supply the arrival temperature to release the doses.")
    elif received.status == TransferStatus.REFUSED:
        text = _("Transfer %(id)s refused: the doses go back to the sender's books.")
    else:
        text = _("Transfer %(id)s received.")
    return _done(request, transfer.to_store.code, text % {"id": transfer.pk})


@login_required
@require_POST
def supply_temperature(request: HttpRequest, transfer_id: int) -> HttpResponse:
    """The missing arrival temperature of a transfer received on hold."""
    try:
        transfer = _scoped_transfer(request.user, transfer_id)
    except VaxopsError as exc:
        return refusal(request, exc)
    form = TemperatureForm(request.POST, prefix=f"h{transfer.pk}")
    if not form.is_valid():
        return _waiting_page(request, bound=transfer, form=form, status=422)
    try:
        done = services.supply_arrival_temperature(
            transfer_id=transfer.pk, arrival_temperature_c=form.cleaned_data["arrival_temperature_c"],
            acting_user=request.user, source=Source.WEB,
        )
    except VaxopsError as exc:
        if exc.code == "nothing_on_hold":  # supplied meanwhile (or this form sent twice)
            messages.error(request, exc.message)
            return redirect("supply:waiting")
        _place_error(form, exc)
        return _waiting_page(request, bound=transfer, form=form, status=exc.status)
    if services.in_cold_chain(done.arrival_temperature_c):
        text = _("Transfer %(id)s: temperature recorded, the doses are released.")
    else:
        text = _("Transfer %(id)s: the temperature was out of range, the doses were written off as a cold-chain failure.")
    return _done(request, transfer.to_store.code, text % {"id": transfer.pk})


@login_required
@require_POST
def receipt_temperature(request: HttpRequest, event_id: int) -> HttpResponse:
    """The missing arrival temperature of a manufacturer's receipt credited on hold."""
    if not can(request.user, "stock.receive_shipment"):
        return forbidden(request)
    line = next((x for x in receipts_waiting_for_temperature(request.user) if x.event_id == event_id), None)
    if line is None:
        # Supplied meanwhile, this form sent twice, or not a receipt of the user's stores: the
        # same answer for all three, which says nothing about other areas.
        messages.error(request, VaxopsError("nothing_on_hold", {"id": event_id}).message)
        return redirect("supply:waiting")
    form = TemperatureForm(request.POST, prefix=f"r{event_id}")
    if not form.is_valid():
        return _waiting_page(request, bound_receipt=event_id, form=form, status=422)
    celsius = form.cleaned_data["arrival_temperature_c"]
    try:
        services.supply_arrival_temperature(event_id=event_id, arrival_temperature_c=celsius,
                                            acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        _place_error(form, exc)
        return _waiting_page(request, bound_receipt=event_id, form=form, status=exc.status)
    if services.in_cold_chain(Decimal(str(celsius))):
        text = _("Receipt of lot %(lot)s: temperature recorded, the doses are released.")
    else:
        text = _("Receipt of lot %(lot)s: the temperature was out of range, the doses were written off as a "
                 "cold-chain failure.")
    return _done(request, line.store.code, text % {"lot": line.lot.lot_number})


# -- count and adjust ------------------------------------------------------------------------


def store_lots(store: Store, user: Any) -> list[StockBalance]:
    """Every lot the store has held (a lot counted at zero is a lot too), earliest expiry first."""
    qs = restrict(StockBalance.objects.filter(store=store), user, "stock.view")
    return list(qs.select_related("lot__product").order_by("lot__expiry_date", "lot__lot_number"))


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def count(request: HttpRequest, code: str) -> HttpResponse:
    """A physical count: the doses counted of each lot; differences become count lines."""
    try:
        store = scoped_store(request.user, code, "stock.count")
    except VaxopsError as exc:
        return refusal(request, exc)
    lots = store_lots(store, request.user)
    typed: dict[int, str] = {}
    line_errors: dict[int, str] = {}
    error = None
    status = 200
    if request.method == "POST":
        counts: dict[str, int] = {}
        for b in lots:
            raw = typed[b.lot_id] = request.POST.get(f"counted_{b.lot_id}", "").strip()
            if raw:
                value, problem = _whole(raw)
                if problem:
                    line_errors[b.lot_id] = problem
                else:
                    counts[b.lot.lot_number] = value
        if not counts and not line_errors:
            error = _("Give the doses counted of at least one lot.")
        if error or line_errors:
            status = 422
        else:
            try:
                event = services.count_stock(store_code=store.code, counts=counts, acting_user=request.user,
                                             source=Source.WEB)
            except VaxopsError as exc:
                lot_id = {b.lot.lot_number: b.lot_id for b in lots}.get(_line_for(exc) or "")
                if lot_id is not None:
                    line_errors[lot_id] = exc.message
                else:
                    error = exc.message
                status = exc.status
            else:
                if event is None:
                    return _done(request, store.code, _("Count recorded: every lot agrees with the books."))
                return _done(request, store.code, _("Count recorded: %(n)s lots differ from the books and were "
                                                    "corrected.") % {"n": event.lines.count()})
    rows = [{"balance": b, "value": typed.get(b.lot_id, ""), "error": line_errors.get(b.lot_id)} for b in lots]
    focus = next((r for r in rows if r["error"]), rows[0] if rows else None)
    return render(request, "supply/count.html", {"store": store, "rows": rows, "error": error,
                                                 "focus_lot": focus["balance"].lot_id if focus else None},
                  status=status)


ADJUST_ORDER = ["lot_number", "reason", "doses", "note"]


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def adjust(request: HttpRequest, code: str) -> HttpResponse:
    """An adjustment of one lot for a manual reason (broken, expired, lost, found, returned…)."""
    try:
        store = scoped_store(request.user, code, "stock.adjust")
    except VaxopsError as exc:
        return refusal(request, exc)
    lots = [(b.lot.lot_number, _("%(product)s · lot %(lot)s · %(on_hand)s doses on hand") % {
        "product": b.lot.product.name, "lot": b.lot.lot_number, "on_hand": b.on_hand}) for b in store_lots(store, request.user)]
    reasons = list(StockReason.objects.filter(manual=True).order_by("type", "code"))  # reference data
    status = 200
    if request.method == "POST":
        form = AdjustForm(request.POST, lots=lots, reasons=reasons)
        if form.is_valid():
            data = form.cleaned_data
            try:
                event, replayed = services.adjust_stock(
                    client_uuid=data["client_uuid"], store_code=store.code, lot_number=data["lot_number"],
                    doses=data["doses"], reason=data["reason"], note=data["note"].strip(),
                    acting_user=request.user, source=Source.WEB,
                )
            except VaxopsError as exc:
                field = "lot_number" if _line_for(exc) and exc.code not in ERROR_FIELDS else ERROR_FIELDS.get(exc.code)
                form.add_error(field if field in form.fields else None, exc.message)
                status = exc.status
            else:
                if replayed:
                    return _done(request, store.code, _("This adjustment was already recorded; nothing was changed."))
                reason = next(r for r in reasons if r.code == data["reason"])
                return _done(request, store.code, _("Adjustment recorded: %(reason)s, %(doses)s doses of lot %(lot)s.")
                             % {"reason": reason.name, "doses": data["doses"], "lot": data["lot_number"]})
        else:
            status = 422
    else:
        form = AdjustForm(initial={"client_uuid": uuid.uuid4()}, lots=lots, reasons=reasons)
    _focus_first(form, ADJUST_ORDER)
    return render(request, "supply/adjust.html", {"store": store, "form": form}, status=status)
