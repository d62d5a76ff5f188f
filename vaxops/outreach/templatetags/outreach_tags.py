from __future__ import annotations

import datetime as dt

from django import template

from vaxops.core.formats import format_date, format_datetime
from vaxops.outreach.outcomes import OUTCOMES

register = template.Library()


@register.filter
def day_words(value: dt.date | None) -> str:
    return format_date(value) if value else ""


@register.filter
def moment_words(value: dt.datetime | None) -> str:
    return format_datetime(value) if value else ""


@register.filter
def outcome_label(code: str | None) -> str:
    spec = OUTCOMES.get(code or "")
    return str(spec.label) if spec else ""
