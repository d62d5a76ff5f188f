"""Stock reasons as data (``data/reasons.json``), and the lookup the ledger uses."""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "reasons.json"
_BY_CODE: dict[str, object] = {}


def load_reasons(reason_model) -> int:
    """Create or update every reason; ``reason_model`` is the (historical) StockReason model."""
    raw = json.loads(DATA.read_text(encoding="utf-8"))
    for item in raw["reasons"]:
        reason_model.objects.update_or_create(code=item["code"], defaults={k: v for k, v in item.items() if k != "code"})
    return len(raw["reasons"])


def reason(code: str):
    """The ``StockReason`` with ``code`` (cached per process: reasons are data loaded once)."""
    from vaxops.supply.models import StockReason

    hit = _BY_CODE.get(code)
    if hit is None:
        hit = _BY_CODE[code] = StockReason.objects.get(code=code)
    return hit


def forget() -> None:
    _BY_CODE.clear()
