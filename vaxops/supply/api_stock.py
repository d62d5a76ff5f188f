"""Stores, their stock, receipts, transfers and adjustments: /api/v1 (docs/supply.md)."""

from __future__ import annotations

from ninja import Router

stores_router = Router(tags=["stores"])
receipts_router = Router(tags=["receipts"])
transfers_router = Router(tags=["transfers"])
adjustments_router = Router(tags=["adjustments"])
