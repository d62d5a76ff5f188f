"""What the stock pages read: the stores of a user's area with their marks, and one store's
stock (balances by lot, days of supply, holds, transfers, recent events, delivery differences).

Every query starts from ``access.scope``: the stores through ``restrict`` (``stock.view``), one
store through ``get_scoped`` by the view; the rows of an in-area store (its balances, lines,
transfers at either end) are read for that store only. Figures come from the balance rows and
the ledger lines, never from a scan of doses.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone

from vaxops.access.scope import restrict
from vaxops.supply.models import (
    Excursion,
    ExcursionStatus,
    Lot,
    LotStatus,
    StockBalance,
    StockLine,
    Store,
    StoreLevel,
    Transfer,
    TransferLine,
    TransferStatus,
)
from vaxops.supply.stock import StockRow, stock_of

# Days of supply are read at the rate of this many last days.
RATE_DAYS = 7
# What "use" is for days of supply: doses given and doses sent on.
USE_REASONS = ("administered", "transfer_out")
RECENT_EVENTS = 25
RECENT_DIFFERENCES = 25
RECEIVED = (TransferStatus.RECEIVED, TransferStatus.RECEIVED_ON_HOLD, TransferStatus.REFUSED)


def reading_moment() -> dt.datetime:
    """The moment the figures are read at: the dashboard's (``VAXOPS_CAMPAIGN_MOMENT``, which
    ``vaxops demo`` sets to its report moment), otherwise now."""
    from vaxops.campaign.views import campaign_moment

    return campaign_moment() or timezone.now()


def visible_stores(user: Any, action: str = "stock.view") -> QuerySet[Store]:
    return restrict(Store.objects.filter(is_active=True).select_related("division", "site"), user, action)


@dataclass
class StoreRow:
    """One store on the overview: its doses on hand and what needs attention."""

    store: Store
    on_hand: int = 0
    held_lots: int = 0
    open_excursions: int = 0
    waiting: int = 0

    @property
    def on_hold(self) -> bool:
        return self.store.on_hold or self.open_excursions > 0


@dataclass
class LevelGroup:
    level: int
    label: str
    rows: list[StoreRow] = field(default_factory=list)


def store_overview(user: Any) -> list[LevelGroup]:
    """The stores of the user's area grouped by level (prefecture first), in four queries."""
    stores = list(visible_stores(user).order_by("level", "code"))
    ids = [s.pk for s in stores]
    rows = {s.pk: StoreRow(s) for s in stores}
    for store_id, on_hand, held in (
        StockBalance.objects.filter(store_id__in=ids).values("store_id")
        .annotate(total=Sum("on_hand"), held=Count("pk", filter=Q(on_hold=True, on_hand__gt=0)))
        .values_list("store_id", "total", "held")
    ):
        rows[store_id].on_hand, rows[store_id].held_lots = on_hand or 0, held
    for store_id, n in (
        Excursion.objects.filter(store_id__in=ids, status=ExcursionStatus.OPEN).values("store_id")
        .annotate(n=Count("pk")).values_list("store_id", "n")
    ):
        rows[store_id].open_excursions = n
    for store_id, n in (
        Transfer.objects.filter(to_store_id__in=ids, status=TransferStatus.IN_TRANSIT).values("to_store_id")
        .annotate(n=Count("pk")).values_list("to_store_id", "n")
    ):
        rows[store_id].waiting = n
    groups: dict[int, LevelGroup] = {}
    for s in stores:
        group = groups.setdefault(s.level, LevelGroup(s.level, str(StoreLevel(s.level).label)))
        group.rows.append(rows[s.pk])
    return list(groups.values())


@dataclass
class ProductSupply:
    """One product's doses at a store and how long they last at the last days' rate."""

    product_code: str
    product_name: str
    on_hand: int = 0
    usable: int = 0  # released, not expired, not on hold: what can still be given or sent
    used: int = 0  # doses given or sent on over the last RATE_DAYS days

    @property
    def daily(self) -> float | None:
        return self.used / RATE_DAYS if self.used > 0 else None

    @property
    def days(self) -> int | None:
        """Whole days the usable doses last (rounded down); ``None`` when nothing was used."""
        return math.floor(self.usable / self.daily) if self.daily else None


def product_supply(store: Store, lots: list[StockRow], user: Any, at: dt.datetime) -> list[ProductSupply]:
    used: dict[str, int] = defaultdict(int)
    lines = restrict(StockLine.objects.filter(store=store), user, "stock.view").filter(
        reason__code__in=USE_REASONS, occurred_at__gt=at - dt.timedelta(days=RATE_DAYS), occurred_at__lte=at,
    )
    for code, total in lines.values("lot__product__code").annotate(total=Sum("quantity")).values_list(
        "lot__product__code", "total"
    ):
        used[code] = max(0, -(total or 0))
    by_product: dict[str, ProductSupply] = {}
    for row in lots:
        entry = by_product.setdefault(row.product, ProductSupply(row.product, row.product_name,
                                                                 used=used.get(row.product, 0)))
        entry.on_hand += row.on_hand
        if row.usable and not store.on_hold:
            entry.usable += row.on_hand
    return sorted(by_product.values(), key=lambda e: e.product_code)


def holds(store: Store, lots: list[StockRow], at: dt.datetime) -> list[dict[str, Any]]:
    """Why stock cannot be used, one entry per cause: open excursions (the whole store), lots
    received without a temperature record, lots past their expiry, lots quarantined or recalled."""
    found: list[dict[str, Any]] = []
    for e in Excursion.objects.filter(store=store, status=ExcursionStatus.OPEN).order_by("started_at"):
        found.append({"kind": "excursion", "excursion": e,
                      "hours": max(0, int((at - e.started_at).total_seconds() // 3600))})
    if store.on_hold and not found:
        found.append({"kind": "store"})
    held = [row for row in lots if row.on_hold and row.on_hand > 0]
    if held:
        pending = {
            (line.lot.product.code, line.lot.lot_number): line.transfer
            for line in TransferLine.objects.filter(
                transfer__to_store=store, transfer__status=TransferStatus.RECEIVED_ON_HOLD,
                lot__lot_number__in=[row.lot_number for row in held],
            ).select_related("transfer__from_store", "lot__product")
        }
        for row in held:
            found.append({"kind": "temperature", "row": row, "transfer": pending.get((row.product, row.lot_number))})
    for row in lots:
        if row.on_hand > 0 and row.expired and row.status == LotStatus.RELEASED:
            found.append({"kind": "expired", "row": row})
    barred = [row for row in lots if row.on_hand > 0 and row.status != LotStatus.RELEASED]
    if barred:
        why = {(lot.product.code, lot.lot_number): lot.status_reason for lot in Lot.objects.filter(
            lot_number__in=[row.lot_number for row in barred]).select_related("product")}
        for row in barred:
            found.append({"kind": "lot_status", "row": row, "status": LotStatus(row.status).label,
                          "reason": why.get((row.product, row.lot_number), "")})
    return found


def transfers_in_transit(store: Store) -> dict[str, list[Transfer]]:
    """Transfers on the road to and from the store (both ends of an in-area store's page)."""
    qs = Transfer.objects.filter(status=TransferStatus.IN_TRANSIT).select_related(
        "from_store", "to_store").prefetch_related("lines__lot__product").order_by("dispatched_at", "pk")
    return {"incoming": list(qs.filter(to_store=store)), "outgoing": list(qs.filter(from_store=store))}


def recent_lines(store: Store, user: Any) -> list[StockLine]:
    return list(
        restrict(StockLine.objects.filter(store=store), user, "stock.view")
        .select_related("event__user", "event__transfer", "reason", "lot__product", "source_store",
                        "destination_store")
        .order_by("-occurred_at", "-pk")[:RECENT_EVENTS]
    )


def delivery_differences(store: Store) -> list[TransferLine]:
    """Lines of received transfers with rejected doses, sent from or to the store."""
    return list(
        TransferLine.objects.filter(Q(transfer__from_store=store) | Q(transfer__to_store=store),
                                    transfer__status__in=RECEIVED, rejected__gt=0)
        .select_related("transfer__from_store", "transfer__to_store", "lot__product", "rejection_reason")
        .order_by("-transfer__received_at", "-pk")[:RECENT_DIFFERENCES]
    )


def store_page(store: Store, user: Any) -> dict[str, Any]:
    """Everything the store's page shows."""
    at = reading_moment()
    # The same reader as the API's stock of a store: lots on hand or on hold, earliest expiry first.
    lots = stock_of(store, today=timezone.localtime(at).date())
    supply = product_supply(store, lots, user, at)
    return {
        "store": store, "at": at, "lots": lots, "supply": supply, "rate_days": RATE_DAYS,
        "total_on_hand": sum(b.on_hand for b in lots),
        "holds": holds(store, lots, at), "transit": transfers_in_transit(store),
        "lines": recent_lines(store, user), "differences": delivery_differences(store),
    }


def receipts_waiting_for_temperature(user: Any, store_code: str = "") -> list[StockLine]:
    """Lines of manufacturers' receipts credited on hold (no arrival temperature) at the
    stores where the user may receive shipments, whose record has not been supplied since."""
    from vaxops.core.models import AuditEvent
    from vaxops.supply.services import RECEIPT_TEMPERATURE_ACTION

    lines = restrict(StockLine.objects.all(), user, "stock.receive_shipment").filter(
        store__in=visible_stores(user, "stock.receive_shipment"), event__reason__code="receipt",
        event__detail__on_hold=True, event__reversed_by__isnull=True,
    )
    if store_code:
        lines = lines.filter(store__code=store_code)
    pending = list(lines.select_related("event", "store", "lot__product").order_by("event__occurred_at", "pk"))
    # The event is never edited: a supplied record is the audit entry that closed its hold.
    supplied = set(AuditEvent.objects.filter(
        action=RECEIPT_TEMPERATURE_ACTION, object_type="supply.stockevent",
        object_id__in=[str(line.event_id) for line in pending],
    ).values_list("object_id", flat=True))
    return [line for line in pending if str(line.event_id) not in supplied]

