"""Value types for API schemas that keep every accepted value inside what the system can hold.

Use these instead of bare ``datetime``/``date``/``int`` in request schemas and parameters: a
value outside the range is refused by validation (422 ``invalid_request``) instead of
overflowing later in date arithmetic or in the database.

Why 1901: before 1901 the campaign time zone (Asia/Shanghai) is local mean time, +08:05:43,
so such a time could not be shown with the +08:00 offset every API datetime carries; no
campaign record is that old. 2200 is far beyond any plan and far from ``datetime.max``, so
adding intervals to an accepted day never overflows.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import AfterValidator, Field

EARLIEST_DAY = dt.date(1901, 1, 1)
LATEST_DAY = dt.date(2199, 12, 31)
_EARLIEST = dt.datetime(1901, 1, 1, tzinfo=dt.UTC)
_LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _instant_in_range(value: dt.datetime) -> dt.datetime:
    # A zone-less time is compared as if it were UTC: only the range is decided here.
    probe = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    try:
        inside = _EARLIEST <= probe < _LATEST
    except OverflowError:
        inside = False
    if not inside:
        raise ValueError(f"must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}")
    return value


def _day_in_range(value: dt.date) -> dt.date:
    if not EARLIEST_DAY <= value <= LATEST_DAY:
        raise ValueError(f"must lie between {EARLIEST_DAY.isoformat()} and {LATEST_DAY.isoformat()}")
    return value


Instant = Annotated[dt.datetime, AfterValidator(_instant_in_range)]
"""A date and time between 1901-01-01 and 2199-12-31 (UTC)."""

Day = Annotated[dt.date, AfterValidator(_day_in_range)]
"""A calendar day between 1901-01-01 and 2199-12-31."""

RowId = Annotated[int, Field(ge=1, le=2**63 - 1)]
"""The id of a stored row: a positive signed 64-bit integer."""
