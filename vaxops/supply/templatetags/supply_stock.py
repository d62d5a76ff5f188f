"""Template helpers of the stock pages: dates, moments and signed doses in words."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import formats

from vaxops.core.formats import format_date, format_datetime

register = template.Library()


@register.filter
def day(value: dt.date | dt.datetime | str | None) -> str:
    """A date as a person reads it in the active language (2021年6月1日 / 1 June 2021)."""
    if value is None or value == "":
        return ""
    return format_date(value)


@register.filter
def moment(value: dt.datetime | str | None) -> str:
    """A moment in the campaign's time zone (2021年6月1日 19:00 / 1 June 2021 19:00)."""
    if value is None or value == "":
        return ""
    return format_datetime(value)


@register.filter
def signed(value: int | None) -> str:
    """Doses with their sign and the locale's grouping (+1,200 / −300)."""
    if value is None:
        return ""
    text = formats.number_format(abs(value), force_grouping=True)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


@register.filter
def lot_status(code: str) -> str:
    """A lot's status code in words (released, quarantined, recalled)."""
    from vaxops.supply.models import LotStatus

    try:
        return str(LotStatus(code).label)
    except ValueError:
        return code

