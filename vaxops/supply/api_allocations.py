"""Allocation proposals and their approval: /api/v1/allocations (docs/supply.md)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["allocations"])
