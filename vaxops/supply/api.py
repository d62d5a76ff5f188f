"""Lots of vaccine."""

from __future__ import annotations

import datetime as dt

from ninja import Router, Schema

from vaxops.access.scope import require, restrict
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.registry.api import ErrorOut
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
