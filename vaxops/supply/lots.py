"""Quarantine, recall and release of lots, and a lot's trace (docs/supply.md)."""

from __future__ import annotations

from typing import Any

from vaxops.supply.models import Lot


def quarantine_lot(*, lot_number: str, reason: str, product_code: str | None = None, acting_user: Any,
                   source: str) -> Lot:
    raise NotImplementedError


def recall_lot(*, lot_number: str, reason: str, product_code: str | None = None, acting_user: Any,
               source: str) -> Lot:
    raise NotImplementedError


def release_lot(*, lot_number: str, reason: str, product_code: str | None = None, acting_user: Any,
                source: str) -> Lot:
    raise NotImplementedError
