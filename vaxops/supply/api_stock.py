"""Stores, their stock, receipts, transfers and adjustments: /api/v1 (docs/supply.md).

Thin: every read goes through ``vaxops.access.scope``, every write is one service of
``vaxops.supply.services``; errors are the services' ``{code, message, detail}``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Q, Sum
from django.utils import timezone
from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.core.openapi import OPERATIONS
from vaxops.core.schema import Day, RowId
from vaxops.regions.models import Division
from vaxops.registry.api import ErrorOut
from vaxops.supply.models import (
    StockBalance,
    StockEvent,
    Store,
    StoreLevel,
    Transfer,
    TransferLine,
    TransferStatus,
)
from vaxops.supply.services import (
    ReceiptLineIn,
    TransferLineIn,
    adjust_stock,
    count_stock,
    dispatch_transfer,
    receive_shipment,
    receive_transfer,
    supply_arrival_temperature,
)

stores_router = Router(tags=["stores"])
receipts_router = Router(tags=["receipts"])
transfers_router = Router(tags=["transfers"])
adjustments_router = Router(tags=["adjustments"])

# The level as a stable word (the label is translated).
LEVEL_KEYS = {StoreLevel.PREFECTURE: "prefecture", StoreLevel.COUNTY: "county", StoreLevel.TOWNSHIP: "township",
              StoreLevel.SITE: "site", StoreLevel.TEAM: "team"}
ERRORS = {403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
READ_ERRORS = {403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


# --- schemas -----------------------------------------------------------------------------------


class StoreOut(Schema):
    code: str
    name: str
    level: str = Field(description="prefecture | county | township | site | team")
    level_name: str
    division_code: str
    site_code: str | None
    parent_code: str | None
    equipment_class: str = Field(description="cold_room | refrigerator | cold_box")
    on_hold: bool = Field(description="An open cold-chain excursion holds all the store's stock.")


class StoreList(Schema):
    items: list[StoreOut]
    count: int


class StockItemOut(Schema):
    product: str
    product_name: str
    lot_number: str
    expiry_date: dt.date
    on_hand: int
    on_hold: bool = Field(description="Received without its arrival temperature record: not usable yet.")
    status: str = Field(description="The lot's status: released | quarantined | recalled.")
    expired: bool
    doses_per_vial: int


class StockOut(Schema):
    store: str
    store_name: str
    on_hold: bool
    items: list[StockItemOut]
    in_transit_in: int = Field(description="Doses dispatched to this store, not yet received.")
    in_transit_out: int = Field(description="Doses dispatched from this store, not yet received.")


class ReceiptIn(Schema):
    client_uuid: uuid.UUID
    store: str = Field(max_length=32)
    product: str = Field(max_length=32)
    lot_number: str = Field(max_length=40)
    expiry_date: Day
    manufacturer: str | None = Field(None, max_length=120)
    release_certificate: str | None = Field(None, max_length=64, description="The batch-release certificate (批签发).")
    doses: int
    arrival_temperature_c: float | None = Field(
        None, description="The journey's arrival temperature. Missing: the doses are received on hold until it is "
        "supplied; outside 2–8 °C: refused (422 arrival_temperature_out_of_range), nothing written.")
    document_number: str | None = Field(None, max_length=64)


class ReceiptOut(Schema):
    id: int
    store: str
    product: str
    lot_number: str
    doses: int
    on_hold: bool
    occurred_at: dt.datetime
    recorded_at: dt.datetime


class TemperatureIn(Schema):
    arrival_temperature_c: float


class TransferLineSchema(Schema):
    lot_number: str = Field(max_length=40)
    doses: int


class TransferIn(Schema):
    client_uuid: uuid.UUID
    from_store: str = Field(max_length=32)
    to_store: str = Field(max_length=32)
    lines: list[TransferLineSchema] = Field(min_length=1, max_length=200)
    document_number: str | None = Field(None, max_length=64)


class TransferLineOut(Schema):
    lot_number: str
    product: str
    doses: int
    accepted: int | None
    rejected: int | None
    rejection_reason: str | None


class TransferOut(Schema):
    id: int
    status: str = Field(description="in_transit | received | received_on_hold | refused")
    from_store: str
    to_store: str
    lines: list[TransferLineOut]
    dispatched_at: dt.datetime | None
    received_at: dt.datetime | None
    arrival_temperature_c: float | None
    delivered_by: str
    document_number: str


class TransferList(Schema):
    items: list[TransferOut]
    count: int
    limit: int
    offset: int


class TransferQuery(Schema):
    store: str | None = Field(None, max_length=32, description="Transfers from or to this store.")
    status: str | None = Field(None, description="in_transit | received | received_on_hold | refused")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)


class ReceiveLineIn(Schema):
    lot_number: str = Field(max_length=40)
    accepted: int
    rejected: int = 0
    rejection_reason: str | None = Field(None, max_length=32, description="A reason code (broken, expired, "
                                         "cold_chain_failure, vvm_discard, lost); required when rejected > 0.")


class ReceiveIn(Schema):
    lines: list[ReceiveLineIn] = Field(max_length=200)
    arrival_temperature_c: float | None = None
    delivered_by: str | None = Field(None, max_length=120)


class AdjustmentIn(Schema):
    client_uuid: uuid.UUID
    store: str = Field(max_length=32)
    lot_number: str = Field(max_length=40)
    doses: int = Field(description="More than zero; the reason gives the sign.")
    reason: str = Field(max_length=32, description="A manual reason: returned, found (credit); broken, expired, "
                        "cold_chain_failure, vvm_discard, lost (debit).")
    note: str | None = Field(None, max_length=500)


class EventLineOut(Schema):
    lot_number: str
    quantity: int
    reason: str


class AdjustmentOut(Schema):
    id: int
    store: str
    reason: str
    lines: list[EventLineOut]
    occurred_at: dt.datetime


class CountLineIn(Schema):
    lot_number: str = Field(max_length=40)
    doses: int


class CountIn(Schema):
    counts: list[CountLineIn] = Field(min_length=1, max_length=500)


class CountLineOut(Schema):
    lot_number: str
    counted: int
    on_books: int
    difference: int


class CountOut(Schema):
    store: str
    event_id: int | None = Field(description="The stock event of the differences (null when every count agreed).")
    lines: list[CountLineOut]


# --- readers -----------------------------------------------------------------------------------


def store_out(s: Store) -> dict[str, Any]:
    return {
        "code": s.code, "name": s.name, "level": LEVEL_KEYS.get(s.level, str(s.level)),
        "level_name": str(s.get_level_display()), "division_code": s.division.code,
        "site_code": s.site.code if s.site_id else None, "parent_code": s.parent.code if s.parent_id else None,
        "equipment_class": s.equipment_class, "on_hold": s.on_hold,
    }


def transfer_out(t: Transfer) -> dict[str, Any]:
    return {
        "id": t.pk, "status": t.status, "from_store": t.from_store.code, "to_store": t.to_store.code,
        "lines": [
            {"lot_number": tl.lot.lot_number, "product": tl.lot.product.code, "doses": tl.doses,
             "accepted": tl.accepted, "rejected": tl.rejected,
             "rejection_reason": tl.rejection_reason.code if tl.rejection_reason_id else None}
            for tl in t.lines.select_related("lot__product", "rejection_reason").order_by("pk")
        ],
        "dispatched_at": t.dispatched_at, "received_at": t.received_at,
        "arrival_temperature_c": float(t.arrival_temperature_c) if t.arrival_temperature_c is not None else None,
        "delivered_by": t.delivered_by, "document_number": t.document_number,
    }


def event_out(e: StockEvent) -> dict[str, Any]:
    lines = list(e.lines.select_related("lot", "reason", "store").order_by("pk"))
    return {
        "id": e.pk, "store": lines[0].store.code if lines else "", "reason": e.reason.code,
        "lines": [{"lot_number": x.lot.lot_number, "quantity": x.quantity, "reason": x.reason.code} for x in lines],
        "occurred_at": e.occurred_at,
    }


def _scoped_store(request, code: str, action: str) -> Store:
    return get_scoped(Store.objects.select_related("division", "site", "parent"), request.user, action,
                      not_found="store_not_found", detail={"store": code}, code=code)


# --- stores ------------------------------------------------------------------------------------


@stores_router.get("", response={200: StoreList, **READ_ERRORS})
def list_stores(request, division: str | None = Query(None, max_length=16)):
    """The stores of your area, from the prefecture's cold room to the mobile teams' cold boxes;
    ``division`` keeps those of one division and the divisions below it."""
    require(request.user, "stock.view")
    stores = restrict(Store.objects.select_related("division", "site", "parent"), request.user, "stock.view")
    if division:
        div = get_scoped(Division.objects.all(), request.user, "division.view", not_found="division_not_found",
                         detail={"division_code": division}, code=division)
        stores = stores.filter(division__path__startswith=div.path)
    items = [store_out(s) for s in stores.filter(is_active=True)]
    return {"items": items, "count": len(items)}


@stores_router.get("/{code}/stock", response={200: StockOut, **READ_ERRORS})
def store_stock(request, code: str):
    """A store's stock by lot (earliest expiry first), with holds and what is in transit."""
    store = _scoped_store(request, code, "stock.view")
    today = timezone.localdate()
    balances = (StockBalance.objects.filter(store=store).filter(Q(on_hand__gt=0) | Q(on_hold=True))
                .select_related("lot__product").order_by("lot__expiry_date", "lot__lot_number"))
    items = [
        {"product": b.lot.product.code, "product_name": b.lot.product.name, "lot_number": b.lot.lot_number,
         "expiry_date": b.lot.expiry_date, "on_hand": b.on_hand, "on_hold": b.on_hold, "status": b.lot.status,
         "expired": b.lot.expiry_date < today, "doses_per_vial": b.lot.doses_per_vial}
        for b in balances
    ]
    def transit(**kw) -> int:
        return TransferLine.objects.filter(transfer__status=TransferStatus.IN_TRANSIT, **kw).aggregate(
            n=Sum("doses"))["n"] or 0

    return {"store": store.code, "store_name": store.name, "on_hold": store.on_hold, "items": items,
            "in_transit_in": transit(transfer__to_store=store), "in_transit_out": transit(transfer__from_store=store)}


@stores_router.post("/{code}/counts", response={200: CountOut, 201: CountOut, **ERRORS})
def count(request, code: str, payload: CountIn):
    """A physical count of the store: doses counted per lot; differences are written as count
    overage or shortage (201), a count that agrees everywhere is recorded as such (200)."""
    counted: dict[str, int] = {}
    for line in payload.counts:
        if line.lot_number in counted:
            raise VaxopsError("duplicate_lot_in_event", {"lot_number": line.lot_number})
        counted[line.lot_number] = line.doses
    store = _scoped_store(request, code, "stock.count")
    before = {b.lot.lot_number: b.on_hand for b in StockBalance.objects.filter(
        store=store, lot__lot_number__in=list(counted)).select_related("lot")}
    event = count_stock(store_code=code, counts=counted, acting_user=request.user, source=Source.API)
    books = event.detail["on_books"] if event is not None else {n: before.get(n, 0) for n in counted}
    lines = [{"lot_number": n, "counted": d, "on_books": books.get(n, 0), "difference": d - books.get(n, 0)}
             for n, d in counted.items()]
    return Status(201 if event else 200, {"store": store.code, "event_id": event.pk if event else None,
                                          "lines": lines})


# --- receipts ----------------------------------------------------------------------------------


def receipt_out(e: StockEvent) -> dict[str, Any]:
    line = e.lines.select_related("store", "lot__product").get()
    return {"id": e.pk, "store": line.store.code, "product": line.lot.product.code, "lot_number": line.lot.lot_number,
            "doses": line.quantity, "on_hold": bool(e.detail.get("on_hold")), "occurred_at": e.occurred_at,
            "recorded_at": e.recorded_at}


@receipts_router.post("", response={200: ReceiptOut, 201: ReceiptOut, **ERRORS})
def create_receipt(request, payload: ReceiptIn):
    """A manufacturer's delivery into a store of your area (supply officers). Idempotent by
    client_uuid (a retry answers 200 with the first receipt). Without the arrival temperature
    the doses are on the books but on hold until it is supplied."""
    event, replayed = receive_shipment(
        client_uuid=payload.client_uuid, store_code=payload.store, product_code=payload.product,
        lot_number=payload.lot_number, expiry_date=payload.expiry_date, doses=payload.doses,
        manufacturer=payload.manufacturer or "", release_certificate=payload.release_certificate or "",
        arrival_temperature_c=payload.arrival_temperature_c, document_number=payload.document_number or "",
        acting_user=request.user, source=Source.API,
    )
    return Status(200 if replayed else 201, receipt_out(event))


@receipts_router.post("/{receipt_id}/temperature", response={200: ReceiptOut, **ERRORS})
def receipt_temperature(request, receipt_id: RowId, payload: TemperatureIn):
    """Supply the missing arrival temperature of a receipt on hold: in 2–8 °C releases the hold,
    outside writes the doses off as a cold-chain failure."""
    event = supply_arrival_temperature(event_id=receipt_id, arrival_temperature_c=payload.arrival_temperature_c,
                                       acting_user=request.user, source=Source.API)
    return receipt_out(event)


# --- transfers ---------------------------------------------------------------------------------


@transfers_router.post("", response={200: TransferOut, 201: TransferOut, **ERRORS})
def create_transfer(request, payload: TransferIn):
    """Dispatch stock from a store of your area to a child store, a sibling or the parent: the
    doses leave the sender at once and are in transit until received. Idempotent by client_uuid."""
    transfer, replayed = dispatch_transfer(
        client_uuid=payload.client_uuid, from_store_code=payload.from_store, to_store_code=payload.to_store,
        lines=[TransferLineIn(x.lot_number, x.doses) for x in payload.lines],
        document_number=payload.document_number or "", acting_user=request.user, source=Source.API,
    )
    return Status(200 if replayed else 201, transfer_out(transfer))


@transfers_router.get("", response={200: TransferList, **READ_ERRORS})
def list_transfers(request, query: Query[TransferQuery]):
    """Transfers from or to the stores of your area, newest first; site staff see those coming to
    their site."""
    require(request.user, "stock.view")
    transfers = restrict(Transfer.objects.select_related("from_store", "to_store"), request.user, "stock.view")
    if query.store:
        store = _scoped_store(request, query.store, "stock.view")
        transfers = transfers.filter(Q(from_store=store) | Q(to_store=store))
    if query.status:
        if query.status not in TransferStatus.values:
            raise VaxopsError("invalid_request", {"field": "status", "allowed": list(TransferStatus.values)})
        transfers = transfers.filter(status=query.status)
    total = transfers.count()
    page = transfers.order_by("-created_at", "-pk")[query.offset:query.offset + query.limit]
    return {"items": [transfer_out(t) for t in page], "count": total, "limit": query.limit, "offset": query.offset}


@transfers_router.post("/{transfer_id}/receive", response={200: TransferOut, **ERRORS})
def receive(request, transfer_id: RowId, payload: ReceiveIn):
    """Proof of delivery at the receiving store: per lot accepted + rejected = shipped, a reason
    for rejected doses (they go back to the sender's books). Without the arrival temperature
    the doses are received on hold; outside 2–8 °C the whole transfer is refused."""
    transfer = receive_transfer(
        transfer_id=transfer_id,
        lines=[ReceiptLineIn(x.lot_number, x.accepted, x.rejected, x.rejection_reason) for x in payload.lines],
        arrival_temperature_c=payload.arrival_temperature_c, delivered_by=payload.delivered_by or "",
        acting_user=request.user, source=Source.API,
    )
    return transfer_out(transfer)


@transfers_router.post("/{transfer_id}/temperature", response={200: TransferOut, **ERRORS})
def transfer_temperature(request, transfer_id: RowId, payload: TemperatureIn):
    """Supply the missing arrival temperature of a transfer received on hold: in 2–8 °C releases
    the hold, outside writes the held doses off as a cold-chain failure."""
    transfer = supply_arrival_temperature(transfer_id=transfer_id, arrival_temperature_c=payload.arrival_temperature_c,
                                          acting_user=request.user, source=Source.API)
    return transfer_out(transfer)


# --- adjustments -------------------------------------------------------------------------------


@adjustments_router.post("", response={200: AdjustmentOut, 201: AdjustmentOut, **ERRORS})
def create_adjustment(request, payload: AdjustmentIn):
    """Adjust a store's stock of a lot with a manual reason (broken, expired, lost… take away;
    found, returned add). Idempotent by client_uuid."""
    event, replayed = adjust_stock(
        client_uuid=payload.client_uuid, store_code=payload.store, lot_number=payload.lot_number,
        doses=payload.doses, reason=payload.reason, note=payload.note or "", acting_user=request.user,
        source=Source.API,
    )
    return Status(200 if replayed else 201, event_out(event))


# The error codes each operation may answer beyond the shared ones (core.openapi).
_STORE = ("store_not_found",)
_SHAPE = ("invalid_quantity", "occurred_in_future", "duplicate_lot_in_event")
OPERATIONS.update({
    "vaxops_supply_api_stock_list_stores": ("", ("division_not_found",)),
    "vaxops_supply_api_stock_store_stock": ("", _STORE),
    "vaxops_supply_api_stock_count": ("", (*_STORE, *_SHAPE, "lot_not_found")),
    "vaxops_supply_api_stock_create_receipt": ("", (
        *_STORE, *_SHAPE, "product_not_found", "lot_wrong_product", "lot_expired_on_receipt",
        "arrival_temperature_out_of_range", "temperature_out_of_range", "idempotency_conflict")),
    "vaxops_supply_api_stock_receipt_temperature": ("", (
        "event_not_found", "nothing_on_hold", "temperature_out_of_range")),
    "vaxops_supply_api_stock_create_transfer": ("", (
        *_STORE, *_SHAPE, "invalid_route", "lot_not_found", "lot_quarantined", "lot_recalled", "lot_expired",
        "insufficient_stock", "stock_on_hold", "idempotency_conflict")),
    "vaxops_supply_api_stock_list_transfers": ("", _STORE),
    "vaxops_supply_api_stock_receive": ("", (
        "transfer_not_found", "transfer_not_in_transit", "delivery_does_not_add_up", "rejection_reason_required",
        "lot_not_in_transfer", "unknown_reason", "reason_not_allowed", "temperature_out_of_range", *_SHAPE)),
    "vaxops_supply_api_stock_transfer_temperature": ("", (
        "transfer_not_found", "nothing_on_hold", "temperature_out_of_range")),
    "vaxops_supply_api_stock_create_adjustment": ("", (
        *_STORE, *_SHAPE, "lot_not_found", "unknown_reason", "reason_not_allowed", "insufficient_stock",
        "idempotency_conflict")),
})
