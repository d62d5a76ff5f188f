"""Temperature readings, cold-chain excursions and their review (docs/supply.md)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from vaxops.supply.models import Excursion


def record_temperatures(*, store_code: str, readings: Sequence[tuple[dt.datetime, float]], kind: str = "manual",
                        acting_user: Any, source: str) -> tuple[int, list[Excursion]]:
    """Store readings (manual or logger); detect excursions by the equipment class's rules; an
    excursion puts the store on hold. Returns (readings accepted, excursions opened)."""
    raise NotImplementedError


def review_excursion(*, excursion_id: int, decision: str, note: str, vvm_checked: bool = False,
                     acting_user: Any, source: str) -> Excursion:
    """Release the store's stock (optionally after a VVM check) or discard it all as a
    cold-chain failure; the hold ends when no open excursion is left."""
    raise NotImplementedError
