"""The cold-chain alarm rules (pure): one test per rule at its exact threshold and duration,
and properties that hold for any readings."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from vaxops.supply.excursion_rules import (
    Reading,
    daily_warnings,
    evaluate,
    load_rules,
    missing_manual_readings,
)

RULES = load_rules()
FRIDGE = RULES.for_class("refrigerator")
BOX = RULES.for_class("cold_box")
HOLD = RULES.max_hold
T0 = dt.datetime(2021, 5, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def series(*steps: tuple[float, float], start: dt.datetime = T0) -> list[Reading]:
    """Readings from (hours after the previous reading, °C) steps; the first step's hours are
    counted from ``start``."""
    out, at = [], start
    for hours, celsius in steps:
        at = at + dt.timedelta(hours=hours)
        out.append(Reading(at, celsius))
    return out


def codes(excursions) -> list[str]:
    return [e.rule for e in excursions]


def hours(h: float) -> dt.timedelta:
    return dt.timedelta(hours=h)


# -- one test per rule ----------------------------------------------------------------------


def test_fridge_above_8_for_exactly_10_hours_is_a_heat_alarm():
    found = evaluate(series((0, 8.01), (10, 5.0)), FRIDGE, max_hold=HOLD)
    assert codes(found) == ["fridge_heat"]
    e = found[0]
    assert (e.started_at, e.ended_at, e.alarm_at, e.peak) == (T0, T0 + hours(10), T0 + hours(10), 8.01)


def test_fridge_above_8_for_just_under_10_hours_raises_nothing():
    assert evaluate(series((0, 9.0), (9.99, 5.0)), FRIDGE, max_hold=HOLD) == []


def test_fridge_at_exactly_8_is_in_range_however_long():
    assert evaluate(series((0, 8.0), (23, 8.0), (23, 8.0), (1, 5.0)), FRIDGE, max_hold=HOLD) == []


def test_fridge_heat_resets_when_back_in_range():
    # 6 h warm, back to 5 °C, 6 h warm again: never 10 h in one event.
    assert evaluate(series((0, 9), (6, 5), (1, 9), (6, 5)), FRIDGE, max_hold=HOLD) == []


def test_fridge_at_minus_half_for_60_minutes_is_a_freeze_alarm():
    found = evaluate(series((0, -0.5), (1, 4.0)), FRIDGE, max_hold=HOLD)
    assert codes(found) == ["fridge_freeze"]
    assert found[0].peak == -0.5


def test_fridge_just_above_minus_half_raises_no_freeze_alarm():
    assert evaluate(series((0, -0.49), (5, 4.0)), FRIDGE, max_hold=HOLD) == []


def test_fridge_freeze_for_59_minutes_raises_nothing():
    assert evaluate(series((0, -3.0), (59 / 60, 4.0)), FRIDGE, max_hold=HOLD) == []


def test_cold_room_has_the_refrigerator_rules():
    assert [r.code for r in RULES.for_class("cold_room")] == [r.code for r in FRIDGE]


def test_box_at_45_for_one_hour_in_one_event():
    found = evaluate(series((0, 45.0), (1, 5.0)), [RULES.rules["box_heat_45"]], max_hold=HOLD)
    assert codes(found) == ["box_heat_45"]
    assert evaluate(series((0, 44.99), (1, 5.0)), [RULES.rules["box_heat_45"]], max_hold=HOLD) == []
    # Two half hours are not one hour in one event.
    assert evaluate(series((0, 46), (0.5, 5), (1, 46), (0.5, 5)), [RULES.rules["box_heat_45"]], max_hold=HOLD) == []


def test_box_at_30_for_10_hours_cumulative():
    rule = RULES.rules["box_heat_30"]
    # Five 2-hour spells at 30 °C, with cool hours between them: 10 h in all.
    steps = [(0, 30.0), (2, 5.0)] + [(3, 30.0), (2, 5.0)] * 4
    found = evaluate(series(*steps), [rule], max_hold=HOLD)
    assert codes(found) == ["box_heat_30"]
    e = found[0]
    assert e.started_at == T0 and e.alarm_at == T0 + hours(22) and e.ended_at == T0 + hours(22)
    assert evaluate(series(*steps[:-1], (1.99, 5.0)), [rule], max_hold=HOLD) == []


def test_box_at_10_for_20_hours_cumulative():
    rule = RULES.rules["box_heat_10"]
    found = evaluate(series((0, 10.0), (12, 4.0), (1, 12.0), (8, 4.0)), [rule], max_hold=HOLD)
    assert codes(found) == ["box_heat_10"] and found[0].peak == 12.0
    assert evaluate(series((0, 9.99), (30, 4.0)), [rule], max_hold=HOLD) == []


def test_box_at_minus_half_for_one_hour_in_one_event():
    found = evaluate(series((0, -0.5), (1, 3.0)), [RULES.rules["box_freeze"]], max_hold=HOLD)
    assert codes(found) == ["box_freeze"]
    assert evaluate(series((0, -0.4), (3, 3.0)), [RULES.rules["box_freeze"]], max_hold=HOLD) == []


def test_box_rules_all_fire_on_a_hot_day():
    found = evaluate(series((0, 46.0), (25, 5.0)), BOX, max_hold=dt.timedelta(hours=48))
    assert sorted(codes(found)) == ["box_heat_10", "box_heat_30", "box_heat_45"]


# -- how readings become time ----------------------------------------------------------------


def test_an_excursion_that_reaches_the_latest_reading_is_ongoing():
    found = evaluate(series((0, 9.0), (6, 9.5), (5, 9.2)), FRIDGE, max_hold=HOLD)
    assert codes(found) == ["fridge_heat"] and found[0].ended_at is None and found[0].peak == 9.5


def test_manual_readings_hold_until_the_next_one():
    # Afternoon 16:00 at 9 °C, next morning 08:00 still 9 °C: 16 h above +8 °C.
    found = evaluate(series((8, 9.0), (16, 9.0), (1, 5.0)), FRIDGE, max_hold=HOLD)
    assert codes(found) == ["fridge_heat"]


def test_a_gap_longer_than_a_day_is_unknown_and_breaks_the_run():
    # 9 °C read on Monday, again on Thursday: the days between are not counted.
    found = evaluate(series((0, 9.0), (72, 9.0), (2, 5.0)), FRIDGE, max_hold=HOLD)
    assert codes(found) == ["fridge_heat"]  # the first reading held 24 h
    assert found[0].ended_at == T0 + hours(24)
    short = dt.timedelta(hours=6)
    assert evaluate(series((0, 9.0), (72, 9.0), (2, 5.0)), FRIDGE, max_hold=short) == []


def test_daily_warning_counts_time_outside_2_to_8_per_day():
    # 22:00 at 9 °C until 02:00, then 1 °C until 03:00.
    readings = series((14, 9.0), (4, 1.0), (1, 5.0))
    warnings = daily_warnings(readings, RULES)
    assert [(w.day.isoformat(), w.minutes_below, w.minutes_above) for w in warnings] == [
        ("2021-05-10", 0, 120), ("2021-05-11", 60, 120),
    ]
    assert warnings[1].lowest == 1.0 and warnings[1].highest == 9.0


def test_2_and_8_are_in_range_for_the_daily_warning():
    assert daily_warnings(series((0, 2.0), (5, 8.0), (5, 5.0)), RULES) == []


# -- properties -------------------------------------------------------------------------------

CELSIUS = st.one_of(
    st.sampled_from([-0.5, -0.49, 2.0, 8.0, 8.01, 10.0, 30.0, 45.0, 5.0]),
    st.floats(min_value=-10, max_value=50, allow_nan=False).map(lambda x: round(x, 2)),
)
STEPS = st.lists(st.tuples(st.integers(min_value=0, max_value=30 * 60), CELSIUS), min_size=1, max_size=40)
CLASSES = st.sampled_from(["refrigerator", "cold_box"])


def from_minutes(steps, start=T0) -> list[Reading]:
    out, at = [], start
    for minutes, celsius in steps:
        at = at + dt.timedelta(minutes=minutes)
        out.append(Reading(at, celsius))
    return out


@settings(max_examples=200, deadline=None)
@given(steps=STEPS, shift=st.integers(min_value=-10**6, max_value=10**6), cls=CLASSES)
def test_shifting_every_reading_shifts_every_excursion(steps, shift, cls):
    rules = RULES.for_class(cls)
    delta = dt.timedelta(minutes=shift)
    before = evaluate(from_minutes(steps), rules, max_hold=HOLD)
    after = evaluate(from_minutes(steps, T0 + delta), rules, max_hold=HOLD)
    assert [(e.rule, e.started_at + delta, e.ended_at and e.ended_at + delta, e.alarm_at + delta, e.peak)
            for e in before] == [(e.rule, e.started_at, e.ended_at, e.alarm_at, e.peak) for e in after]


@settings(max_examples=200, deadline=None)
@given(steps=STEPS, inserted=st.lists(
    st.tuples(st.integers(min_value=-60, max_value=40 * 30 * 60), st.floats(min_value=2, max_value=8)),
    min_size=1, max_size=10), cls=CLASSES)
def test_inserting_in_range_readings_never_creates_an_excursion(steps, inserted, cls):
    # Inserted within the readings' time: a reading after the latest one is news (the latest
    # reading holds for no time, so an in-range reading after it says how long it held).
    rules = RULES.for_class(cls)
    readings = from_minutes(steps)
    first, last = readings[0].at, readings[-1].at
    extra = [Reading(T0 + dt.timedelta(minutes=m), c) for m, c in inserted]
    more = sorted(readings + [r for r in extra if first <= r.at < last], key=lambda r: r.at)
    before = evaluate(readings, rules, max_hold=HOLD)
    after = evaluate(more, rules, max_hold=HOLD)
    assert {e.rule for e in after} <= {e.rule for e in before}
    # A continuous alarm after the insertion lies within one raised before it.
    far = T0 + dt.timedelta(days=10**4)
    for e in after:
        if RULES.rules[e.rule].trigger == "continuous":
            assert any(b.rule == e.rule and b.started_at <= e.started_at and (e.ended_at or far) <= (b.ended_at or far)
                       for b in before), (e, before)


@settings(max_examples=200, deadline=None)
@given(steps=STEPS, cls=CLASSES)
def test_every_excursion_lasts_its_rule_and_its_readings_meet_the_threshold(steps, cls):
    readings = from_minutes(steps)
    for e in evaluate(readings, RULES.for_class(cls), max_hold=HOLD):
        rule = RULES.rules[e.rule]
        assert e.alarm_at - e.started_at >= rule.duration if rule.trigger == "continuous" else True
        assert e.ended_at is None or e.ended_at >= e.alarm_at
        assert rule.past(e.peak)
        # The readings that held some time within the excursion (one followed at the same
        # instant by another holds for none).
        counted = [r.celsius for i, r in enumerate(readings)
                   if r.at >= e.started_at and (e.ended_at is None or r.at < e.ended_at)
                   and (i + 1 == len(readings) or readings[i + 1].at > r.at)]
        if rule.trigger == "continuous":
            assert all(rule.past(c) for c in counted)


@settings(max_examples=200, deadline=None)
@given(steps=st.lists(st.tuples(st.integers(min_value=0, max_value=30 * 60),
                                st.floats(min_value=2, max_value=8)), min_size=1, max_size=40), cls=CLASSES)
def test_readings_within_2_to_8_raise_nothing_and_warn_of_nothing(steps, cls):
    readings = from_minutes(steps)
    assert evaluate(readings, RULES.for_class(cls), max_hold=HOLD) == []
    assert daily_warnings(readings, RULES) == []


@settings(max_examples=100, deadline=None)
@given(steps=STEPS)
def test_daily_warning_minutes_add_up_to_the_time_out_of_range(steps):
    readings = from_minutes(steps)
    expected = 0.0
    for a, b in zip(readings, readings[1:], strict=False):
        if not (RULES.low <= a.celsius <= RULES.high):
            expected += (min(b.at, a.at + HOLD) - a.at).total_seconds() / 60
    got = sum(w.minutes for w in daily_warnings(readings, RULES))
    assert abs(got - expected) < 1e-6


# -- the manual-reading rule (China 2017, Art. 11) ---------------------------------------------

DAY = T0.date()


def at(hour: int, minute: int = 0, day: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY + dt.timedelta(days=day), dt.time(hour, minute), tzinfo=T0.tzinfo)


def test_a_morning_and_an_afternoon_reading_6_hours_apart_are_enough():
    assert missing_manual_readings([at(8), at(14)], DAY, DAY, now=at(9, day=3)) == []


def test_a_day_without_its_afternoon_reading_is_flagged():
    [flag] = missing_manual_readings([at(8)], DAY, DAY, now=at(9, day=3))
    assert (flag.day, flag.morning, flag.afternoon, flag.too_close) == (DAY, False, True, False)


def test_readings_less_than_6_hours_apart_are_flagged():
    [flag] = missing_manual_readings([at(9), at(14, 59)], DAY, DAY, now=at(9, day=3))
    assert flag.too_close and not flag.morning and not flag.afternoon


def test_a_day_without_readings_is_flagged_for_both_and_today_only_once_its_half_is_over():
    flags = missing_manual_readings([], DAY, DAY + dt.timedelta(days=1), now=at(13, day=1))
    assert [(f.day, f.morning, f.afternoon) for f in flags] == [
        (DAY, True, True), (DAY + dt.timedelta(days=1), True, False),
    ]
