"""Progress of a target as pure arithmetic (no Django): what should have been done by a moment
(linear or a stated ramp), ahead or behind in people and in days, and the projected date at the
last seven days' rate.

Time is measured in days (floats) from the start of the target's first day; the target is due at
the end of its due day. The expected curve rises from 0 at the start to the full target at the
due time, through the ramp's points (fraction of the target by the end of a day), straight
between them, and stays flat after the due time.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

# Beyond ten years at the current rate a projected date says nothing (and far enough dates
# would not fit a date): none is given.
MAX_PROJECTION_DAYS = 3650


@dataclass(frozen=True)
class Plan:
    """A target's value (people or doses), its first and due days and its ramp."""

    target: int
    starts: dt.date
    due: dt.date
    ramp: tuple[tuple[dt.date, float], ...] = ()

    def points(self) -> list[tuple[float, float]]:
        """The expected curve as (days since the start, fraction) points, rising."""
        end = float((self.due - self.starts).days + 1)
        pts = [(0.0, 0.0)]
        for day, fraction in sorted(self.ramp):
            t = float((day - self.starts).days + 1)
            if 0 < t < end and fraction > pts[-1][1]:
                pts.append((t, min(float(fraction), 1.0)))
        pts.append((max(end, pts[-1][0] + 1e-9), 1.0))
        return pts


def fraction_at(plan: Plan, t: float) -> float:
    """The expected fraction of the target done ``t`` days after the start."""
    pts = plan.points()
    if t <= 0:
        return 0.0
    for (t0, f0), (t1, f1) in zip(pts, pts[1:], strict=False):
        if t <= t1:
            return f0 + (f1 - f0) * (t - t0) / (t1 - t0)
    return 1.0


def time_of(plan: Plan, fraction: float) -> float:
    """When the expected curve reaches ``fraction`` (days since the start); the due time for
    anything at or beyond the whole target."""
    pts = plan.points()
    if fraction <= 0:
        return 0.0
    for (t0, f0), (t1, f1) in zip(pts, pts[1:], strict=False):
        if fraction <= f1:
            return t0 + (t1 - t0) * (fraction - f0) / (f1 - f0)
    return pts[-1][0]


@dataclass(frozen=True)
class Progress:
    """A target's progress at one moment (see ``progress``)."""

    target: int
    achieved: int
    percent: float | None
    expected_by_now: int
    ahead_by: int  # people (or doses) ahead of the expected; negative: behind
    ahead_days: float  # days ahead of the expected curve (met: days before the due day); negative: behind
    rate_7d: float  # per day over the last seven days
    projected_date: dt.date | None  # when met (or, met already, the day it was met)
    met: bool
    met_on: dt.date | None
    met_ahead: bool  # met before the end of its due day


def days_since(plan: Plan, at: dt.datetime) -> float:
    """``at`` (local time) as days since the start of the plan's first day."""
    start = dt.datetime.combine(plan.starts, dt.time.min, tzinfo=at.tzinfo)
    return (at - start).total_seconds() / 86400


def progress(plan: Plan, at: dt.datetime, *, achieved: int, week_ago: int, week_ago_at: dt.datetime,
             met_on: dt.date | None = None) -> Progress:
    """Progress of ``plan`` at ``at`` (local, aware).

    ``achieved``: done by ``at``; ``week_ago``: done by ``week_ago_at`` (about seven days earlier:
    the rate is their difference over the time between them); ``met_on``: the day the target was
    reached, when it has been (from the daily series). The projected date is ``at`` plus what is
    left at the last seven days' rate (``None`` when nothing was done in those days, or when it
    would lie more than ten years ahead); for a met target, the day it was met.
    """
    t = days_since(plan, at)
    expected = math.floor(plan.target * fraction_at(plan, t) + 1e-9)
    elapsed = (at - week_ago_at).total_seconds() / 86400
    rate = (achieved - week_ago) / elapsed if elapsed > 0 else 0.0
    met = plan.target > 0 and achieved >= plan.target
    met_day = (met_on or at.date()) if met else None
    if plan.target <= 0:
        ahead_days = 0.0
    elif met_day is not None:
        # Met: how many days before its due day (negative: met late).
        ahead_days = float((plan.due - met_day).days)
    else:
        ahead_days = time_of(plan, achieved / plan.target) - t
    if met:
        projected = met_on or at.date()
    elif rate > 0 and (plan.target - achieved) / rate <= MAX_PROJECTION_DAYS:
        projected = (at + dt.timedelta(days=(plan.target - achieved) / rate)).date()
    else:
        projected = None
    return Progress(
        target=plan.target, achieved=achieved,
        percent=round(100 * achieved / plan.target, 2) if plan.target > 0 else None,
        expected_by_now=expected, ahead_by=achieved - expected, ahead_days=round(ahead_days, 2),
        rate_7d=round(rate, 2), projected_date=projected, met=met, met_on=met_day,
        met_ahead=met and met_day is not None and met_day < plan.due,
    )


def first_reached(daily: Sequence[tuple[dt.date, int]], target: int) -> dt.date | None:
    """The first day whose cumulative figure (``daily``: (day, cumulative by its end), in day
    order) reached ``target``."""
    for day, cumulative in daily:
        if cumulative >= target:
            return day
    return None
