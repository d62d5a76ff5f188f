"""Temperatures and cold-chain excursions: /api/v1 (docs/supply.md)."""

from __future__ import annotations

from ninja import Router

stores_router = Router(tags=["cold chain"])
excursions_router = Router(tags=["cold chain"])
