"""How numbers and dates read to a person: one function for each, used by every page, report,
API message and export, so a figure never reads 35.9 % in one place and 35.8 % in another.

Dates follow one pattern per language (zh-Hans: 2021年6月1日; English: 1 June 2021); the
patterns are translatable Django date formats, so the language of the request decides.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.utils import formats
from django.utils.dateformat import format as django_date_format
from django.utils.translation import pgettext

__all__ = ["format_date", "format_percent", "percent"]


def percent(ratio: float | None, digits: int = 1) -> float | None:
    """``ratio`` as a percentage rounded half up to ``digits`` decimals (0.35849 → 35.8); the
    one rounding of percentages (charts, tables and headlines all call it); ``None`` stays."""
    if ratio is None:
        return None
    quantum = Decimal(1).scaleb(-digits)
    return float((Decimal(str(ratio)) * 100).quantize(quantum, rounding=ROUND_HALF_UP))


def format_percent(ratio: float | None, digits: int = 1) -> str:
    """``percent(ratio)`` in the active locale with a per-cent sign; a dash when unknown."""
    value = percent(ratio, digits)
    if value is None:
        return "–"
    return formats.number_format(value, decimal_pos=digits) + "%"


def format_date(day: dt.date | dt.datetime | str) -> str:
    """A date as a person reads it in the active language (2021年6月1日 / 1 June 2021).

    Accepts an ISO date string too, as the eligibility rules carry dates in their parameters.
    """
    if isinstance(day, str):
        day = dt.date.fromisoformat(day[:10])
    # Translators: a Django date format (letters as in the "date" template filter). English
    # "1 June 2021"; Chinese 2021年6月1日 is Y年n月j日.
    return django_date_format(day, pgettext("date format", "j F Y"))
