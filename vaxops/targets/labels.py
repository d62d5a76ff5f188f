"""How targets are named to people: the period (上半年 …), the metric, the base, the status."""

from __future__ import annotations

import datetime as dt

from django.utils import formats
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from vaxops.registry.models import PriorityGroup

from .models import AGE_BASES, Metric


def period_words(due: dt.date) -> str:
    """The period a target runs to: the first half of the year (due 30 June), the whole year
    (due 31 December), else "by" its date."""
    if (due.month, due.day) == (6, 30):
        return pgettext("target period (Chinese 上半年)", "first-half-year")
    if (due.month, due.day) == (12, 31):
        return pgettext("target period (Chinese 全年)", "full-year")
    return pgettext("target period (Chinese %(date)s前)", "by-%(date)s") % {"date": day_words(due)}


def metric_words(metric: str) -> str:
    """The metric as a target's name says it (第1剂次接种目标: "first-dose target")."""
    return {
        Metric.FIRST_DOSE_PEOPLE: pgettext("target metric (Chinese 第1剂次接种)", "first-dose"),
        Metric.COMPLETED_PEOPLE: pgettext("target metric (Chinese 全程接种)", "full-course"),
        Metric.DOSES: pgettext("target metric (Chinese 接种剂次)", "doses"),
        Metric.KEY_GROUP_COVERAGE: pgettext("target metric (Chinese 重点人群接种)", "key-group"),
    }.get(metric, metric)


def base_words(base: str) -> str:
    if base in AGE_BASES:
        return {"18+": _("residents aged 18+"), "60+": _("residents aged 60+"), "all": _("all residents")}[base]
    group = PriorityGroup.objects.filter(code=base).first()
    return group.name if group else base


def target_name(metric: str, due: dt.date) -> str:
    """The target's name: "first-half-year first-dose target" (上半年第1剂次接种目标)."""
    # Translators: a target's name. Chinese: %(period)s%(metric)s目标 (上半年第1剂次接种目标).
    return _("%(period)s %(metric)s target") % {"period": period_words(due), "metric": metric_words(metric)}


def status_words(status: str) -> str:
    return {
        "met_ahead": _("met ahead of schedule"), "met": _("met"), "ahead": _("ahead of schedule"),
        "on_track": _("on schedule"), "behind": _("behind schedule"),
    }.get(status, status)


def day_words(day: dt.date | None) -> str:
    """A day as people write it (6月1日; 1 June)."""
    return formats.date_format(day, "MONTH_DAY_FORMAT") if day else "—"
