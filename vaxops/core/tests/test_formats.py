"""One rounding of percentages (half up, the string shows the same digits) and one way to
write a date per language, shared by templates, messages and reports."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

import pytest
from django.template import Context, Template
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from vaxops.core.formats import format_date, format_datetime, format_percent, percent
from vaxops.core.numbers import percent_decimal

ratios = st.decimals(min_value=-10, max_value=10, allow_nan=False, allow_infinity=False, places=12)
digit_counts = st.integers(min_value=0, max_value=6)


@given(ratio=ratios, digits=digit_counts)
def test_percentages_round_half_up_at_every_digit_count(ratio, digits):
    value = percent_decimal(ratio, digits)
    exact = ratio * 100
    step = Decimal(1).scaleb(-digits)
    # Within half a step of the exact value, and a tie goes away from zero.
    assert abs(value - exact) <= step / 2
    if abs(value - exact) == step / 2:
        assert abs(value) > abs(exact)
    assert value == exact.quantize(step, rounding=ROUND_HALF_UP)


@given(ratio=st.floats(min_value=0, max_value=5, allow_nan=False), digits=digit_counts)
def test_a_float_rounds_as_its_shortest_decimal_form_reads(ratio, digits):
    assert percent(ratio, digits) == float((Decimal(str(ratio)) * 100).quantize(
        Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP))


@given(ratio=ratios, digits=digit_counts)
def test_the_string_form_shows_the_digits_of_the_number(ratio, digits):
    with translation.override("en"):
        text = format_percent(ratio, digits)
    assert text.endswith("%")
    number = text[:-1]
    assert Decimal(number) == percent_decimal(ratio, digits)
    assert (len(number.partition(".")[2]) if digits else 0) == digits
    assert float(number) == percent(ratio, digits)


@pytest.mark.parametrize("unknown", [None, float("nan"), float("inf")])
def test_an_unknown_share_stays_unknown(unknown):
    assert percent(unknown) is None
    assert format_percent(unknown) == "–"


def test_halves_round_up_where_binary_floats_would_round_down():
    # 0.3585 is 0.35849999… in binary: a chart and a table must both show 35.9.
    assert percent(0.3585) == 35.9 and format_percent(0.3585) == "35.9%"
    assert percent(0.0125, 0) == 1.0 and percent(0.00005, 2) == 0.01


def test_the_percent_template_filter_rounds_like_the_headline():
    html = Template("{% load vaxops_web %}{{ a|percent }} {{ b|percent }} {{ c|percent:2 }} {{ d|percent }}")
    text = html.render(Context({"a": 0.3585, "b": 0.35849, "c": 0.123456, "d": None}))
    assert text == "35.9% 35.8% 12.35% –"


@pytest.mark.parametrize(
    ("language", "day", "moment"),
    [("zh-hans", "2021年6月1日", "2021年6月1日 19:00"), ("en", "1 June 2021", "1 June 2021 19:00")],
)
def test_templates_and_messages_write_a_date_the_same_way(language, day, moment):
    at = dt.datetime(2021, 6, 1, 11, 0, tzinfo=dt.UTC)  # 19:00 in the campaign's time zone
    html = Template(
        '{{ d|date }}|{{ d|date:"SHORT_DATE_FORMAT" }}|{{ at|date:"DATETIME_FORMAT" }}|'
        '{{ at|date:"SHORT_DATETIME_FORMAT" }}|{{ at }}'
    )
    with translation.override(language):
        text = html.render(Context({"d": dt.date(2021, 6, 1), "at": at}))
        assert text == f"{day}|{day}|{moment}|{moment}|{moment}"
        assert format_date(dt.date(2021, 6, 1)) == format_date("2021-06-01") == format_date(at) == day
        assert format_datetime(at) == format_datetime("2021-06-01T19:00:00+08:00") == moment


def test_a_late_evening_utc_moment_is_dated_in_the_campaign_time_zone():
    with translation.override("en"):
        assert format_date(dt.datetime(2021, 6, 1, 17, 0, tzinfo=dt.UTC)) == "2 June 2021"


def test_the_allocation_table_rounds_its_fill_percentages_the_same_way():
    from vaxops.planning.allocation.cli import _fill

    assert (_fill(0.3585), _fill(0.35849), _fill(None)) == (" 35.9%", " 35.8%", "—")
