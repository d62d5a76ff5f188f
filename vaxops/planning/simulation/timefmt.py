"""Clock times in configs: minutes from midnight, or ``"HH:MM"``.

Hours may run past 24 (``"26:30"`` is 02:30 the next day) so that multi-day and long
steady-state studies use the same notation as a single site-day.
"""

from __future__ import annotations

import math
import re
from typing import Any

from .errors import SimulationConfigError

_HHMM = re.compile(r"^(\d{1,4}):([0-5]\d)$")


def parse_time(value: Any, field: str) -> float:
    """Minutes from midnight for a number of minutes or an ``"HH:MM"`` string."""
    if isinstance(value, str):
        match = _HHMM.match(value.strip())
        if not match:
            raise SimulationConfigError(
                "bad_time", f'must be minutes from midnight or "HH:MM", got {value!r}', field
            )
        return float(int(match.group(1)) * 60 + int(match.group(2)))
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SimulationConfigError(
            "bad_time", f'must be minutes from midnight or "HH:MM", got {value!r}', field
        )
    if value < 0:
        raise SimulationConfigError("bad_time", f"must not be negative, got {value!r}", field)
    return float(value)


def format_time(minutes: float | None) -> str:
    """``"HH:MM"`` (to the nearest minute) for minutes from midnight; ``"-"`` for none."""
    if minutes is None or not math.isfinite(minutes):
        return "-"
    whole = int(round(minutes))
    return f"{whole // 60:02d}:{whole % 60:02d}"
