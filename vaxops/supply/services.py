"""Stock services: each one durable transaction with its audit event (docs/supply.md).

Every movement goes through ``vaxops.supply.ledger.post``; these functions add the checks a
user's request needs (scope, route, product, dates, proof of delivery) and the audit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vaxops.supply.models import StockEvent, Store, Transfer


@dataclass(frozen=True)
class TransferLineIn:
    lot_number: str
    doses: int


@dataclass(frozen=True)
class ReceiptLineIn:
    lot_number: str
    accepted: int
    rejected: int = 0
    rejection_reason: str | None = None  # a StockReason code (e.g. "broken") when rejected > 0


def create_store(*, code: str, name_zh: str, name_en: str = "", level: int, division_code: str,
                 site_code: str | None = None, parent_code: str | None = None,
                 equipment_class: str = "refrigerator", acting_user: Any, source: str) -> Store:
    raise NotImplementedError


def receive_shipment(*, client_uuid: uuid.UUID, store_code: str, product_code: str, lot_number: str,
                     expiry_date: dt.date, doses: int, manufacturer: str = "", release_certificate: str = "",
                     arrival_temperature_c: float | None = None, occurred_at: dt.datetime | None = None,
                     document_number: str = "", acting_user: Any, source: str) -> tuple[StockEvent, bool]:
    """A manufacturer's delivery into a store (creates the lot when new). Returns (event,
    replayed). Missing arrival temperature → received on hold; outside 2–8 °C → refused."""
    raise NotImplementedError


def dispatch_transfer(*, client_uuid: uuid.UUID | None, from_store_code: str, to_store_code: str,
                      lines: Sequence[TransferLineIn], occurred_at: dt.datetime | None = None,
                      allocation=None, document_number: str = "", acting_user: Any, source: str,
                      ) -> tuple[Transfer, bool]:
    """Create a transfer and dispatch it at once (stock leaves the sender: in transit).
    Returns (transfer, replayed)."""
    raise NotImplementedError


def receive_transfer(*, transfer_id: int, lines: Sequence[ReceiptLineIn], arrival_temperature_c: float | None,
                     delivered_by: str = "", occurred_at: dt.datetime | None = None, acting_user: Any,
                     source: str) -> Transfer:
    """Proof of delivery: per line accepted + rejected = shipped; rejected doses go back to the
    sender's books (``dispatch_rejected``)."""
    raise NotImplementedError


def supply_arrival_temperature(*, transfer_id: int, arrival_temperature_c: float, acting_user: Any,
                               source: str) -> Transfer:
    """The missing temperature record of a transfer received on hold: in range releases the
    hold; out of range writes the doses off as a cold-chain failure."""
    raise NotImplementedError


def adjust_stock(*, client_uuid: uuid.UUID | None, store_code: str, lot_number: str, doses: int, reason: str,
                 note: str = "", occurred_at: dt.datetime | None = None, acting_user: Any,
                 source: str) -> tuple[StockEvent, bool]:
    """An adjustment (doses > 0, the reason gives the sign). Returns (event, replayed)."""
    raise NotImplementedError


def count_stock(*, store_code: str, counts: dict[str, int], occurred_at: dt.datetime | None = None,
                acting_user: Any, source: str) -> StockEvent | None:
    """A physical count: lot number → doses counted; differences become count overage /
    shortage lines (None when every count agrees)."""
    raise NotImplementedError


def reverse_event(*, event_id: int, note: str, acting_user: Any, source: str) -> StockEvent:
    """Correct a mistake: a new event with every line negated, naming the one it reverses."""
    raise NotImplementedError
