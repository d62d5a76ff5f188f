"""Template filters of the standby page: times of day in the campaign's zone, days in words."""

from __future__ import annotations

import datetime as dt

from django import template

from vaxops.core.formats import format_date

register = template.Library()


@register.filter
def clock(value: dt.datetime | None) -> str:
    """The time of day (16:45) in the campaign's time zone."""
    if value is None:
        return ""
    from vaxops.campaign.services import TZ

    return value.astimezone(TZ).strftime("%H:%M")


@register.filter
def day_words(value: dt.date | None) -> str:
    return format_date(value) if value else ""
