"""The pure rules behind the live inputs of an allocation (property tests)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from hypothesis import given, settings
from hypothesis import strategies as st

from vaxops.catalog.rules import age_on
from vaxops.supply.allocations import _birth_date_limit, _nearest, _split, weight_of

days = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@settings(max_examples=400, derandomize=True)
@given(birth=days, today=days, years=st.integers(0, 110))
def test_the_birth_date_limit_is_exactly_the_age_rule(birth, today, years):
    if today.year - years < 1:
        return
    assert (birth <= _birth_date_limit(today, years)) == (age_on(birth, today) >= years)


def test_someone_born_on_29_february_is_a_year_older_on_1_march():
    assert _birth_date_limit(dt.date(2021, 3, 1), 18) == dt.date(2003, 3, 1)
    assert age_on(dt.date(2000, 2, 29), dt.date(2018, 2, 28)) == 17
    assert dt.date(2000, 2, 29) > _birth_date_limit(dt.date(2018, 2, 28), 18)


@given(count=st.integers(0, 10_000), n=st.integers(1, 7))
def test_people_shared_by_children_of_one_division_add_up_and_differ_by_at_most_one(count, n):
    into: dict[int, int] = defaultdict(int)
    _split(count, list(range(n)), into)
    assert sum(into.values()) == count
    assert max(into.values(), default=0) - min(into.values(), default=0) <= 1


segment = st.text("0123456789", min_size=2, max_size=3)


@given(path=st.lists(segment, min_size=1, max_size=6), cut=st.integers(0, 6), others=st.lists(
    st.lists(segment, min_size=1, max_size=6), max_size=5))
def test_a_home_counts_in_the_deepest_child_area_above_it(path, cut, others):
    home = "/".join(path) + "/"
    areas = {"/".join(o) + "/": [i + 10] for i, o in enumerate(others)}
    above = "/".join(path[: max(1, len(path) - cut)]) + "/"
    areas[above] = [1]
    hit = _nearest(home, areas)
    deepest = max((a for a in areas if home.startswith(a) and a in _prefixes(home)), key=len)
    assert hit == areas[deepest]


def _prefixes(path):
    parts = path.rstrip("/").split("/")
    return {"/".join(parts[:n]) + "/" for n in range(1, len(parts) + 1)}


def test_weights_come_from_the_data_file_and_the_largest_applies():
    assert weight_of([]) == 1.0
    assert weight_of(["border"]) == 1.5
    assert weight_of(["border", "mass_site"]) == 2.0
    assert weight_of(["point_to_point"]) == 1.5
