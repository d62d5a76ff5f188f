"""Allocation proposals from live data, reviewed and approved into dispatched transfers."""

from __future__ import annotations

from typing import Any

from vaxops.supply.models import Allocation, Transfer


def propose_allocation(*, from_store_code: str, supply: dict[str, int], horizon_days: int = 14,
                       default_capacity: int | None = None, acting_user: Any, source: str) -> Allocation:
    """Split ``supply`` ({product code: doses}) of a store among its child stores by the pure
    engine in ``vaxops.planning.allocation``, from live demand, due second doses, stock on hand
    and capacity; stored as a proposed Allocation with one line per child × product."""
    raise NotImplementedError


def approve_allocation(*, allocation_id: int, acting_user: Any, source: str) -> list[Transfer]:
    """Approve a proposed allocation: creates its dispatched transfers in one transaction."""
    raise NotImplementedError
