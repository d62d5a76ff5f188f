"""When a resident is next due, from the product rules alone (no Django import).

The work lists are driven by one date per person: the day the next dose falls due. This module
computes it from the person's birth date and valid doses with the rules of ``catalog.rules``
(approved age bands, dose intervals, due-by days, booster rules), so the table the writers keep
(``outreach.duetable``) and the brute-force reference of the tests read the same rule.

Decisions:

* Never vaccinated: due from the first day some product of the series is approved and one of
  its age rules admits the person (a 12-17 year old from 2021-07-01, a child from 2021-10-25).
  Someone no rule will ever admit is on no list.
* Next primary dose: due ``min_interval_days`` after the previous dose; overdue after the
  due-by day counted from dose 1 (``due_by_days_from_dose1``; without one, 28 days after due).
* Booster: due when the first booster rule that applies opens (its start, the days after the
  completing dose, the minimum age); none once no rule applies (the boosters allowed given).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

#: without a due-by day, a next dose is overdue this many days after it fell due
OVERDUE_AFTER_DAYS = 28


@dataclass(frozen=True, slots=True)
class GivenDose:
    """One valid dose of the person (any series)."""

    product_code: str
    dose_number: int
    kind: str  # "primary" | "booster"
    given_on: dt.date


@dataclass(frozen=True, slots=True)
class Due:
    """The next dose a person is due for: ``kind`` first | next | booster."""

    kind: str
    dose_number: int
    due_date: dt.date
    overdue_on: dt.date | None = None  # the due-by day: overdue from the day after


def date_of_age(birth_date: dt.date, years: int) -> dt.date:
    """The day the person turns ``years`` (29 February birthdays: 1 March)."""
    try:
        return birth_date.replace(year=birth_date.year + years)
    except ValueError:
        return dt.date(birth_date.year + years, 3, 1)


#: a first-dose window: (the day it opens, minimum age, maximum age or ``None``)
Window = tuple[dt.date, int, int | None]


def first_dose_windows(products: Sequence[Any]) -> tuple[Window, ...]:
    """The distinct windows the products' age rules open for a first dose: the later of the
    rule's start and the product's approval, and the rule's ages (products share most of them)."""
    windows: dict[Window, None] = {}
    for p in products:
        approved = p.approved_on or dt.date.min
        for rule in p.age_rules:
            windows[(max(rule.effective_from or dt.date.min, approved), rule.min_age_years, rule.max_age_years)] = None
    return tuple(windows)


def first_due_in(birth_date: dt.date, windows: Sequence[Window]) -> dt.date | None:
    """The first day one of ``windows`` (``first_dose_windows``) admits the person (``None``: never)."""
    best: dt.date | None = None
    ages: dict[int, dt.date] = {}  # each birthday the windows name, once
    for opens, min_age, max_age in windows:
        if (birthday := ages.get(min_age)) is None:
            birthday = ages[min_age] = date_of_age(birth_date, min_age)
        start = max(opens, birthday)
        if max_age is not None:
            if (birthday := ages.get(max_age + 1)) is None:
                birthday = ages[max_age + 1] = date_of_age(birth_date, max_age + 1)
            if start > birthday - dt.timedelta(days=1):
                continue
        if best is None or start < best:
            best = start
    return best


def first_due(birth_date: dt.date, products: Sequence[Any]) -> dt.date | None:
    """The first day some product admits the person for a first dose (``None``: never)."""
    return first_due_in(birth_date, first_dose_windows(products))


def first_dose_due(birth_date: dt.date, windows: Sequence[Window]) -> Due | None:
    """A never-vaccinated person's next due dose: the first, from the first day a window admits
    them (``None``: no rule ever will)."""
    day = first_due_in(birth_date, windows)
    return None if day is None else Due("first", 1, day)


def next_due(birth_date: dt.date, doses: Sequence[GivenDose], products: Mapping[str, Any],
             series: str) -> Due | None:
    """The person's next due dose in ``series`` (``products``: code -> ``ProductRule``), or
    ``None`` when nothing more is due (series and boosters complete, or no rule admits them)."""
    of_series = [p for p in products.values() if p.series == series]
    mine = sorted((d for d in doses if d.product_code in products and products[d.product_code].series == series),
                  key=lambda d: (d.given_on, d.dose_number))
    primaries = [d for d in mine if d.kind == "primary"]
    boosters = [d for d in mine if d.kind == "booster"]
    if not primaries:
        return first_dose_due(birth_date, first_dose_windows(of_series))
    first_product = products[primaries[0].product_code]
    required = first_product.doses_in_series
    if len(primaries) < required:
        rule = first_product.doses[len(primaries)]
        due = primaries[-1].given_on + dt.timedelta(days=rule.min_interval_days or 0)
        if rule.due_by_days_from_dose1 is not None:
            overdue_on = primaries[0].given_on + dt.timedelta(days=rule.due_by_days_from_dose1)
        else:
            overdue_on = due + dt.timedelta(days=OVERDUE_AFTER_DAYS)
        return Due("next", len(primaries) + 1, due, max(overdue_on, due))
    completed = primaries[required - 1]
    platforms = {products[d.product_code].platform for d in primaries[:required]}
    same = {primaries[0].product_code, primaries[required - 1].product_code}
    best: dt.date | None = None
    for p in of_series:
        for r in p.booster_rules:
            if not platforms <= set(r.primary_platforms) or len(boosters) > r.max_prior_boosters:
                continue
            if r.kind == "homologous" and p.code not in same:
                continue
            when = max(r.effective_from, completed.given_on + dt.timedelta(days=r.min_days_after_primary),
                       date_of_age(birth_date, r.min_age_years))
            if best is None or when < best:
                best = when
    if best is None:
        return None
    return Due("booster", len(primaries) + len(boosters) + 1, best)


def list_date(due_date: dt.date | None, hold_until: dt.date | None) -> dt.date | None:
    """The day a person comes onto the lists: when due, not before a hold (away, deferred) ends."""
    if due_date is None:
        return None
    if hold_until is None or hold_until <= due_date:
        return due_date
    return hold_until
