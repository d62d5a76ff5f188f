"""The one rounding of percentages, without Django, so the pure engines (planning) share it.

``core.formats`` builds the localised strings on top of it; pages, reports, API messages,
exports and command-line tables all round through :func:`percent_decimal`.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

__all__ = ["percent", "percent_decimal"]


def percent_decimal(ratio: float | Decimal | None, digits: int = 1) -> Decimal | None:
    """``ratio`` × 100 rounded half up to ``digits`` decimals, exactly (0.3585 → 35.9).

    The ratio is read from its shortest decimal form (``str``), so 0.3585 rounds as a person
    reads it, not as its binary neighbour 0.35849999…; ``None``, NaN and infinities give ``None``.
    """
    if digits < 0:
        raise ValueError("digits must be 0 or more")
    if ratio is None:
        return None
    if isinstance(ratio, float) and not math.isfinite(ratio):
        return None
    value = Decimal(str(ratio))
    if not value.is_finite():
        return None
    return (value * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)


def percent(ratio: float | Decimal | None, digits: int = 1) -> float | None:
    """:func:`percent_decimal` as a float (for charts and JSON); ``None`` stays ``None``."""
    value = percent_decimal(ratio, digits)
    return None if value is None else float(value)
