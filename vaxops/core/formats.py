"""How numbers and dates read to a person: one function for each, used by every page, report,
API message and export, so a figure never reads 35.9 % in one place and 35.8 % in another.

Dates follow one pattern per language (zh-Hans: 2021年6月1日; English: 1 June 2021). The
patterns are the Django format modules of ``vaxops/formats/`` (``DATE_FORMAT`` …), so a
template's ``{{ day|date }}`` or ``|date:"SHORT_DATE_FORMAT"`` and :func:`format_date` read the
same, and the language of the request decides. Percentages are rounded once, half up, by
:func:`vaxops.core.numbers.percent_decimal` (Django-free, so the pure engines share it).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils import formats, timezone

from vaxops.core.numbers import percent, percent_decimal

__all__ = ["format_date", "format_datetime", "format_percent", "percent"]


def format_percent(ratio: float | Decimal | None, digits: int = 1) -> str:
    """``percent(ratio, digits)`` in the active locale with a per-cent sign ("35.9%"); a dash
    when unknown. The digits shown are exactly those of :func:`percent` (never truncated)."""
    value = percent_decimal(ratio, digits)
    if value is None:
        return "–"
    return formats.number_format(value, decimal_pos=digits) + "%"


def _as_day(day: dt.date | dt.datetime | str) -> dt.date | dt.datetime:
    if isinstance(day, str):
        return dt.datetime.fromisoformat(day) if "T" in day else dt.date.fromisoformat(day[:10])
    return day


def _local(moment: dt.date | dt.datetime) -> dt.date | dt.datetime:
    # An aware moment reads in the campaign's time zone: 17:00 UTC on 1 June is 2 June there.
    if isinstance(moment, dt.datetime) and timezone.is_aware(moment):
        return timezone.localtime(moment)
    return moment


def format_date(day: dt.date | dt.datetime | str) -> str:
    """A date as a person reads it in the active language (2021年6月1日 / 1 June 2021).

    Accepts an ISO date (or date-time) string too, as the eligibility rules and error details
    carry dates in that form.
    """
    return formats.date_format(_local(_as_day(day)), "DATE_FORMAT")


def format_datetime(moment: dt.datetime | str) -> str:
    """A moment as a person reads it (2021年6月1日 19:00 / 1 June 2021 19:00), in the campaign's
    time zone when the moment is aware."""
    return formats.date_format(_local(_as_day(moment)), "DATETIME_FORMAT")
