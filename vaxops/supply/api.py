"""Lots of vaccine."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from vaxops.access.scope import require, restrict
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.api import ErrorOut
from vaxops.supply import lots
from vaxops.supply.models import Lot

router = Router(tags=["lots"])


class LotOut(Schema):
    lot_number: str
    product: str
    manufacturer: str
    expiry_date: dt.date
    status: str


class LotList(Schema):
    items: list[LotOut]
    count: int


@router.get("", response={200: LotList, 404: ErrorOut})
def list_lots(request, product: str | None = None):
    require(request.user, "lot.view")
    lots = restrict(Lot.objects.select_related("product"), request.user, "lot.view")
    if product:
        if not Product.objects.filter(code=product).exists():
            raise VaxopsError("product_not_found", {"product": product})
        lots = lots.filter(product__code=product)
    items = [
        {"lot_number": x.lot_number, "product": x.product.code, "manufacturer": x.manufacturer,
         "expiry_date": x.expiry_date, "status": x.status}
        for x in lots
    ]
    return {"items": items, "count": len(items)}


# --- Quarantine, recall and trace (docs/supply.md) ---------------------------------------------


class LotStatusIn(Schema):
    reason: str = Field(description="Why (required, at most 500 characters); kept with the lot and audited.")
    product: str | None = Field(None, description="The product code, needed only when two products share "
                                "the lot number (422 lot_product_required).")


class LotStatusOut(Schema):
    lot_number: str
    product: str
    status: str
    status_reason: str
    status_changed_at: dt.datetime | None


class TraceStoreOut(Schema):
    code: str
    name: str
    level: int
    on_hand: int
    administered: int
    wasted: int
    received: int


class TraceCountyOut(Schema):
    county_code: str
    county_name: str
    count: int


class TraceOut(Schema):
    lot_number: str
    product: str
    product_name: str
    expiry_date: dt.date
    status: str
    status_reason: str
    received: int
    in_transit: int
    on_hand: int
    administered: int
    wasted: int
    dose_records: int = Field(description="Valid dose records of the lot in your area (equals administered "
                              "when every dose drew down its store).")
    stores: list[TraceStoreOut]
    recipients_by_county: list[TraceCountyOut]


class RecipientOut(Schema):
    name: str = Field(description="Masked (张*三, T*).")
    id_number: str = Field(description="Masked: first 6 and last 4 characters.")
    phone: str
    county_code: str
    county_name: str
    site_code: str
    site_name: str
    administered_on: dt.date
    dose_number: int


class RecipientList(Schema):
    items: list[RecipientOut]
    count: int
    limit: int
    offset: int


class RecipientQuery(Schema):
    product: str | None = None
    limit: int = Field(100, ge=1, le=lots.RECIPIENTS_PAGE_MAX)
    offset: int = Field(0, ge=0, le=10_000_000)


def _status_out(lot: Lot) -> dict:
    return {"lot_number": lot.lot_number, "product": lot.product.code, "status": lot.status,
            "status_reason": lot.status_reason, "status_changed_at": lot.status_changed_at}


_STATUS_RESPONSES = {200: LotStatusOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}
_READ_RESPONSES = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


@router.post("/{lot_number}/quarantine", response=_STATUS_RESPONSES, summary="Quarantine a lot")
def quarantine(request, lot_number: str, payload: LotStatusIn):
    """No dose and no transfer out of the lot from the next request on, until released (supervisor)."""
    return _status_out(lots.quarantine_lot(lot_number=lot_number, reason=payload.reason, product_code=payload.product,
                                           acting_user=request.user, source=Source.API))


@router.post("/{lot_number}/recall", response=_STATUS_RESPONSES, summary="Recall a lot")
def recall(request, lot_number: str, payload: LotStatusIn):
    """As a quarantine; its recipients are listed for the recall notice (supervisor)."""
    return _status_out(lots.recall_lot(lot_number=lot_number, reason=payload.reason, product_code=payload.product,
                                       acting_user=request.user, source=Source.API))


@router.post("/{lot_number}/release", response=_STATUS_RESPONSES, summary="Release a lot")
def release(request, lot_number: str, payload: LotStatusIn):
    """Let a quarantined or recalled lot be used again (supervisor)."""
    return _status_out(lots.release_lot(lot_number=lot_number, reason=payload.reason, product_code=payload.product,
                                        acting_user=request.user, source=Source.API))


@router.get("/{lot_number}/trace", response={200: TraceOut, **_READ_RESPONSES}, summary="A lot's trace")
def lot_trace(request, lot_number: str, product: str | None = None):
    """Received, in transit, on hand, administered and wasted, per store, and the recipients by
    county, within your area (404 lot_not_in_area when the lot has no record there)."""
    return lots.trace(lot_number, user=request.user, product_code=product)


@router.get("/{lot_number}/recipients", response={200: RecipientList, **_READ_RESPONSES},
            summary="A lot's recipients (masked, with phones)")
def lot_recipients(request, lot_number: str, query: Query[RecipientQuery]):
    """The valid doses of the lot in your area, paged; every read is audited."""
    lot, doses = lots.recipients(lot_number, user=request.user, product_code=query.product)
    count = doses.count()
    rows = lots.recipient_rows(doses[query.offset:query.offset + query.limit])
    lots.log_recipients_read(lot, user=request.user, source=Source.API, fmt="json", count=len(rows))
    return {"items": [r.__dict__ for r in rows], "count": count, "limit": query.limit, "offset": query.offset}


@router.get("/{lot_number}/recipients.csv", response={200: None, **_READ_RESPONSES},
            summary="A lot's recipients as CSV (UTF-8 with BOM)")
def lot_recipients_csv(request, lot_number: str, product: str | None = None):
    """Every recipient of the lot in your area, for a recall notice; each export is audited."""
    return recipients_csv_response(request, lot_number, product, source=Source.API)


def recipients_csv_response(request, lot_number: str, product: str | None, *, source: str) -> HttpResponse:
    """The CSV download (the API's and the page's): the whole list in the user's area, audited."""
    lot, doses = lots.recipients(lot_number, user=request.user, product_code=product)
    rows = lots.recipient_rows(doses)
    lots.log_recipients_read(lot, user=request.user, source=source, fmt="csv", count=len(rows))
    response = HttpResponse(lots.recipients_csv(rows), content_type="text/csv; charset=utf-8")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in lot.lot_number)
    response["Content-Disposition"] = f'attachment; filename="lot-{safe}-recipients.csv"'
    return response
