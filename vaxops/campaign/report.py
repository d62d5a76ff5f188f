"""The daily report sentence, worded as a health commission publishes it.

For example (甘孜日报, 2021-06-03): 截至6月1日19时，全州累计接种新冠病毒疫苗373657剂次，其中第一剂
330123人，第二剂43534人. The sentence is one translatable message with placeholders; the pieces
that differ by language (the area word, the date-time, number grouping) are translated or
localised on their own, so no Chinese is assembled in code.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.utils import formats, timezone
from django.utils.dateformat import format as date_format
from django.utils.functional import Promise
from django.utils.translation import ngettext, pgettext, pgettext_lazy

from vaxops.regions.models import Division, Level


@dataclass(frozen=True)
class AreaWord:
    """How a report names the whole of a division: the Chinese word (a stable key) and its text."""

    key: str
    text: Promise


# Contexts carry the Chinese word, so the translator knows which one each English phrase stands for;
# the translation is that word itself (全州, 全县 …).
_WORDS: dict[str, Promise] = {
    "全省": pgettext_lazy("report area 全省", "the province"),
    "全区": pgettext_lazy("report area 全区 (autonomous region)", "the region"),
    "全州": pgettext_lazy("report area 全州", "the prefecture"),
    "全地区": pgettext_lazy("report area 全地区", "the prefecture"),
    "全盟": pgettext_lazy("report area 全盟", "the league"),
    "全市": pgettext_lazy("report area 全市", "the city"),
    "全县": pgettext_lazy("report area 全县", "the county"),
    "全旗": pgettext_lazy("report area 全旗", "the banner"),
    "全区(市辖区)": pgettext_lazy("report area 全区 (district)", "the district"),
    "全乡": pgettext_lazy("report area 全乡", "the township"),
    "全镇": pgettext_lazy("report area 全镇", "the town"),
    "街道": pgettext_lazy("report area 街道 (a subdistrict names itself, without 全)", "the subdistrict"),
    "社区": pgettext_lazy("report area 社区 (a community names itself, without 全)", "the community"),
    "全村": pgettext_lazy("report area 全村", "the village"),
    "全网格": pgettext_lazy("report area 全网格", "the grid"),
    "全辖区": pgettext_lazy("report area 全辖区", "the area"),
}

# (name ending, area word), longest endings first: 自治区 before 区, 街道 before 道.
_ENDINGS: tuple[tuple[str, str], ...] = (
    ("自治区", "全区"),
    ("自治州", "全州"),
    ("自治县", "全县"),
    ("自治旗", "全旗"),
    ("民族乡", "全乡"),
    ("街道", "街道"),
    ("地区", "全地区"),
    ("社区", "社区"),
    ("苏木", "全乡"),
    ("省", "全省"),
    ("州", "全州"),
    ("盟", "全盟"),
    ("市", "全市"),
    ("县", "全县"),
    ("旗", "全旗"),
    ("区", "全区(市辖区)"),
    ("乡", "全乡"),
    ("镇", "全镇"),
    ("村", "全村"),
)

# When the name does not tell (a synthetic name, an abbreviation), the level does.
_BY_LEVEL = {
    Level.PROVINCE: "全省",
    Level.PREFECTURE: "全州",
    Level.COUNTY: "全县",
    Level.TOWNSHIP: "全乡",
    Level.VILLAGE: "全村",
    Level.GRID: "全网格",
}


# A trailing remark in brackets is not part of the name's ending: the demo labels its synthetic
# places "康定市第1街道（示例）", and the unit word (街道, 乡, 镇, 社区 …) comes before the remark.
_REMARK = re.compile(r"\s*[（(][^（()）]*[)）]\s*$")


def area_word(division: Division) -> AreaWord:
    """The word for "the whole of" ``division`` in a report (全州, 全县, 全市, 全乡 …).

    Chinese reports take it from the last characters of the official name: a county-level
    city says 全市, an autonomous prefecture 全州, a street office 街道 — the name is the one
    reliable signal of a division's kind (the level alone does not tell a street office from a
    township). A remark in brackets at the end is skipped; only a name that names no unit falls
    back to the level.
    """
    name = _REMARK.sub("", division.name_zh.strip())
    for ending, key in _ENDINGS:
        if name.endswith(ending):
            # 自治区 is a province-level region; any other name ending in 区 is a city district.
            if key == "全区" and division.level != Level.PROVINCE:
                key = "全区(市辖区)"
            return AreaWord(key, _WORDS[key])
    key = _BY_LEVEL.get(division.level, "全辖区")
    return AreaWord(key, _WORDS[key])


# Django date-format strings (see the "date" template filter), translated per language: the
# Chinese report writes 6月1日19时 (or 6月1日19时5分), the English one "19:00 on 1 June".
_TIME_ON_THE_HOUR = pgettext_lazy(
    # Translators: a Django date format (letters as in the "date" template filter; backslash
    # escapes a letter). English "19:00 on 1 June"; Chinese reports write n月j日G时 (6月1日19时).
    "report time on the hour", "H:i \\o\\n j F"
)
_TIME_WITH_MINUTES = pgettext_lazy(
    # Translators: a Django date format as above, for a time with minutes; Chinese: n月j日G时i分.
    "report time with minutes", "H:i \\o\\n j F"
)


_YEAR_ON_THE_HOUR = pgettext_lazy(
    # Translators: as "report time on the hour", with the year (a moment of another year).
    # English "19:00 on 1 June 2021"; Chinese Y年n月j日G时 (2021年6月1日19时).
    "report time on the hour with year", "H:i \\o\\n j F Y"
)
_YEAR_WITH_MINUTES = pgettext_lazy(
    # Translators: as "report time with minutes", with the year; Chinese Y年n月j日G时i分.
    "report time with minutes with year", "H:i \\o\\n j F Y"
)


def report_time(at: dt.datetime, *, today: dt.date | None = None) -> str:
    """``at`` (already in local time) as a report writes it; with the year unless ``at`` is in
    the current year (``today``'s, by default the campaign's local date)."""
    this_year = (today or timezone.localdate()).year
    if at.year == this_year:
        pattern = _TIME_ON_THE_HOUR if at.minute == 0 else _TIME_WITH_MINUTES
    else:
        pattern = _YEAR_ON_THE_HOUR if at.minute == 0 else _YEAR_WITH_MINUTES
    return date_format(at, str(pattern))


def grouped(number: int) -> str:
    """A whole number in the active locale (373,657 in English; 373657 in Chinese)."""
    return formats.number_format(number, force_grouping=True)


def view_phrase(view: str) -> str:
    """Which clock a figure follows, as the report sentence says it."""
    if view == "recorded":
        return pgettext("report view", "as recorded by then")
    return pgettext("report view", "by time of vaccination")


def report_sentence(
    division: Division, at: dt.datetime, *, doses: int, first: int, second: int,
    view: str = "administered", today: dt.date | None = None,
) -> str:
    """The sentence a health commission publishes: doses so far, first and second doses, and
    which view the figures are in (doses given by ``at``, or entered by ``at``)."""
    params = {
        "view": view_phrase(view),
        "time": report_time(at, today=today),
        "area": str(area_word(division).text),
        "doses": grouped(doses),
        "first": grouped(first),
        "second": grouped(second),
    }
    return ngettext(
        # Translators: the report sentence of a health commission. Chinese: 截至%(time)s，%(area)s
        # 累计接种新冠病毒疫苗%(doses)s剂次，其中第一剂%(first)s人，第二剂%(second)s人（%(view)s）。
        "As of %(time)s, %(area)s had given %(doses)s dose of COVID-19 vaccine: "
        "%(first)s people had their first dose and %(second)s their second (%(view)s).",
        "As of %(time)s, %(area)s had given %(doses)s doses of COVID-19 vaccine: "
        "%(first)s people had their first dose and %(second)s their second (%(view)s).",
        doses,
    ) % params
