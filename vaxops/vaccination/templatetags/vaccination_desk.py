"""Template helpers of the site desk."""

from __future__ import annotations

import datetime as dt

from django import template

from vaxops.core.formats import format_date

register = template.Library()


@register.filter
def day(value: dt.date | dt.datetime | str | None) -> str:
    """A date as a person reads it in the active language (2021年6月1日 / 1 June 2021)."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        from django.utils import timezone

        value = timezone.localtime(value).date()
    return format_date(value)
