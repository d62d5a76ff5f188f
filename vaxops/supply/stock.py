"""Readers of stock for the API and the pages alike (one reader per view of the data).

Every function takes objects already scoped by the caller (``access.scope``): a store fetched
with ``get_scoped``, a queryset passed through ``restrict``. Nothing here writes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from vaxops.supply.models import StockBalance, Store, Transfer, TransferLine, TransferStatus


@dataclass(frozen=True)
class StockRow:
    """One lot on hand (or on hold) in one store."""

    product: str
    product_name: str
    lot_number: str
    expiry_date: dt.date
    on_hand: int
    on_hold: bool
    status: str  # the lot's: released | quarantined | recalled
    expired: bool
    doses_per_vial: int

    @property
    def usable(self) -> bool:
        """Whether a dose or a dispatch may take from it today (before the store's own hold)."""
        return self.on_hand > 0 and not self.on_hold and not self.expired and self.status == "released"


def stock_of(store: Store, *, today: dt.date | None = None) -> list[StockRow]:
    """The store's lots with doses on hand or on hold, earliest expiry first (2017 rules, Art. 18)."""
    today = today or timezone.localdate()
    balances = (StockBalance.objects.filter(store=store).filter(Q(on_hand__gt=0) | Q(on_hold=True))
                .select_related("lot__product").order_by("lot__expiry_date", "lot__lot_number"))
    return [
        StockRow(product=b.lot.product.code, product_name=b.lot.product.name, lot_number=b.lot.lot_number,
                 expiry_date=b.lot.expiry_date, on_hand=b.on_hand, on_hold=b.on_hold, status=b.lot.status,
                 expired=b.lot.expiry_date < today, doses_per_vial=b.lot.doses_per_vial)
        for b in balances
    ]


def in_transit_doses(store: Store) -> tuple[int, int]:
    """(doses on their way to the store, doses on their way from it)."""
    def total(**kw) -> int:
        return TransferLine.objects.filter(transfer__status=TransferStatus.IN_TRANSIT, **kw).aggregate(
            n=Sum("doses"))["n"] or 0

    return total(transfer__to_store=store), total(transfer__from_store=store)


def transfers_of(transfers: QuerySet[Transfer], *, store: Store | None = None,
                 status: str | None = None) -> QuerySet[Transfer]:
    """``transfers`` (already restricted to the user's area) from or to ``store``, in ``status``,
    newest first."""
    if store is not None:
        transfers = transfers.filter(Q(from_store=store) | Q(to_store=store))
    if status:
        transfers = transfers.filter(status=status)
    return transfers.select_related("from_store", "to_store").order_by("-created_at", "-pk")


def waiting_for(store: Store, transfers: QuerySet[Transfer]) -> QuerySet[Transfer]:
    """The transfers on their way to ``store`` (to receive), oldest first."""
    return (transfers.filter(to_store=store, status=TransferStatus.IN_TRANSIT)
            .select_related("from_store", "to_store").order_by("dispatched_at", "pk"))
