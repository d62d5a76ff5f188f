"""The round's arithmetic as a pure rule (Hypothesis)."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from vaxops.standby.services import offers_to_make

counts = st.integers(min_value=0, max_value=500)
factors = st.floats(min_value=1, max_value=5, allow_nan=False)


@given(counts, counts, factors)
def test_a_round_tops_the_open_offers_up_to_the_factor_and_no_further(free, open_offers, factor):
    made = offers_to_make(free, open_offers, factor)
    assert made >= 0
    if free == 0:
        assert made == 0
    else:
        assert open_offers + made >= math.ceil(factor * free)
        assert made == 0 or open_offers + made == math.ceil(factor * free)


@given(st.integers(min_value=1, max_value=500), factors)
def test_a_first_round_offers_at_least_one_call_per_free_dose(free, factor):
    assert offers_to_make(free, 0, factor) >= free
