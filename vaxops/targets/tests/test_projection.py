"""The projection rules on constructed series, and their properties (Hypothesis)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from vaxops.targets.projection import Plan, first_reached, fraction_at, progress, time_of

TZ = ZoneInfo("Asia/Shanghai")
START, DUE = dt.date(2021, 4, 1), dt.date(2021, 6, 30)  # 91 days


def at(day: dt.date, hour: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=TZ)


def test_linear_expected_is_the_share_of_the_time_gone():
    plan = Plan(target=9100, starts=START, due=DUE)
    # 1 May 00:00 is 30 days in: 30/91 of 9,100.
    p = progress(plan, at(dt.date(2021, 5, 1)), achieved=3000, week_ago=2300, week_ago_at=at(dt.date(2021, 4, 24)))
    assert p.expected_by_now == 3000
    assert p.ahead_by == 0 and p.ahead_days == 0
    assert p.rate_7d == 100.0
    # 6,100 left at 100 a day: 61 days.
    assert p.projected_date == dt.date(2021, 7, 1)
    assert not p.met and p.percent == 32.97


def test_a_constructed_series_ahead_of_a_linear_target_is_ahead_in_people_and_days():
    # 100 people a day from 1 April: by 11 May 00:00 (40 days) 4,000 done of a 7,000 target due 30 June.
    series = [(START + dt.timedelta(days=i), 100 * (i + 1)) for i in range(40)]
    plan = Plan(target=7000, starts=START, due=DUE)
    now = at(dt.date(2021, 5, 11))
    p = progress(plan, now, achieved=4000, week_ago=3300, week_ago_at=at(dt.date(2021, 5, 4)))
    assert p.expected_by_now == 3076  # 7000 × 40/91
    assert p.ahead_by == 924
    # The linear curve reaches 4,000 at 52 days (4000/7000 × 91): 12 days ahead.
    assert p.ahead_days == 12.0
    assert p.projected_date == dt.date(2021, 6, 10)  # 3,000 left at 100 a day
    assert first_reached(series, 4000) == dt.date(2021, 5, 10)


def test_a_met_target_projects_the_day_it_was_met_and_is_ahead_when_before_the_due_day():
    plan = Plan(target=5000, starts=START, due=DUE)
    p = progress(plan, at(dt.date(2021, 6, 1), 19), achieved=5200, week_ago=4000,
                 week_ago_at=at(dt.date(2021, 5, 26)), met_on=dt.date(2021, 5, 30))
    assert p.met and p.met_ahead and p.projected_date == dt.date(2021, 5, 30)
    assert p.ahead_days == 31  # met on 30 May, due 30 June


def test_no_progress_in_the_last_week_has_no_projected_date():
    plan = Plan(target=5000, starts=START, due=DUE)
    p = progress(plan, at(dt.date(2021, 6, 1)), achieved=1000, week_ago=1000, week_ago_at=at(dt.date(2021, 5, 25)))
    assert p.projected_date is None and p.rate_7d == 0 and p.ahead_by < 0 and p.ahead_days < 0


def test_a_stated_ramp_expects_little_early_and_much_late():
    # A slow start: 10% by the end of April, 50% by the end of May, the rest in June.
    plan = Plan(target=10_000, starts=START, due=DUE,
                ramp=((dt.date(2021, 4, 30), 0.1), (dt.date(2021, 5, 31), 0.5)))
    assert fraction_at(plan, 30) == 0.1
    assert fraction_at(plan, 61) == 0.5
    p = progress(plan, at(dt.date(2021, 5, 1)), achieved=1000, week_ago=800, week_ago_at=at(dt.date(2021, 4, 24)))
    assert p.expected_by_now == 1000 and p.ahead_by == 0 and p.ahead_days == 0
    linear = progress(Plan(target=10_000, starts=START, due=DUE), at(dt.date(2021, 5, 1)), achieved=1000,
                      week_ago=800, week_ago_at=at(dt.date(2021, 4, 24)))
    assert linear.ahead_by < 0


ramps = st.lists(st.tuples(st.integers(1, 89), st.floats(0.01, 0.99)), max_size=4).map(
    lambda pts: tuple(sorted({(START + dt.timedelta(days=d), f) for d, f in pts})))


@settings(max_examples=200, derandomize=True, deadline=None)
@given(target=st.integers(1, 10**7), ramp=ramps, t=st.floats(-10, 120), achieved=st.integers(0, 2 * 10**7))
def test_expected_rises_from_zero_to_the_target_and_time_inverts_it(target, ramp, t, achieved):
    plan = Plan(target=target, starts=START, due=DUE, ramp=ramp)
    f = fraction_at(plan, t)
    assert 0 <= f <= 1
    assert fraction_at(plan, t + 1) >= f
    if 0 < t < 91:
        # The time the curve reaches a fraction is when it is at that fraction.
        assert abs(fraction_at(plan, time_of(plan, f)) - f) < 1e-6
    now = at(START) + dt.timedelta(days=t)
    p = progress(plan, now, achieved=achieved, week_ago=max(0, achieved - 700),
                 week_ago_at=now - dt.timedelta(days=7))
    assert p.ahead_by == achieved - p.expected_by_now
    assert 0 <= p.expected_by_now <= target
    # Until met, ahead in people and ahead in days agree in sign (a flat stretch may hold days at zero).
    if not p.met and (p.ahead_by > 0 and p.ahead_days < 0 or p.ahead_by < 0 and p.ahead_days > 0):
        raise AssertionError(p)
    assert p.met == (achieved >= target)
    if not p.met and achieved > 700 and (target - achieved) / 100 < 3000:
        assert p.projected_date is not None and p.projected_date >= now.date()
