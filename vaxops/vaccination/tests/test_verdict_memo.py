"""The batch path shares a primary dose's verdict between people of one age when an age band in
force covers that age (catalog.rules.age_band_open): shown here to be the verdict each of them
gets on their own, whatever their exact birth dates."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import assume, event, given, settings
from hypothesis import strategies as st

from vaxops.catalog.rules import (
    ActiveDeferral,
    OtherVaccination,
    PriorDose,
    age_band_open,
    age_on,
    assess,
    date_of_age,
    load_products,
)

PRODUCTS = load_products()
CODES = sorted(PRODUCTS)
births = st.dates(min_value=date(1900, 1, 1), max_value=date(2021, 12, 31))
days = st.dates(min_value=date(2021, 1, 1), max_value=date(2022, 12, 31))


@settings(max_examples=500, deadline=None)
@given(births, days, st.integers(min_value=0, max_value=130))
def test_a_person_reaches_an_age_on_a_day_exactly_when_their_age_that_day_is_at_least_it(birth, on, years):
    assert (date_of_age(birth, years) <= on) == (age_on(birth, on) >= years)


@st.composite
def cases(draw):
    on = draw(days)
    code = draw(st.sampled_from(CODES))
    first = draw(st.dates(min_value=date(1930, 1, 1), max_value=date(2019, 12, 31)))
    second = first + timedelta(days=draw(st.integers(min_value=-366, max_value=366)))
    assume(second <= date(2022, 12, 31) and age_on(first, on) == age_on(second, on))
    history = tuple(
        PriorDose(product_code=draw(st.sampled_from(CODES)), dose_number=n, kind="primary",
                  given_on=on - timedelta(days=draw(st.integers(min_value=0, max_value=200))))
        for n in range(1, draw(st.integers(min_value=0, max_value=2)) + 1)
    )
    others = tuple(OtherVaccination(given_on=on - timedelta(days=draw(st.integers(min_value=0, max_value=30))))
                   for _ in range(draw(st.integers(min_value=0, max_value=1))))
    deferrals = tuple(
        ActiveDeferral(code="illness", until=draw(st.none() | st.just(on + timedelta(days=3))))
        for _ in range(draw(st.integers(min_value=0, max_value=1)))
    )
    return on, code, first, second, history, others, deferrals


@settings(max_examples=400, deadline=None)
@given(cases())
def test_a_primary_verdict_within_an_open_age_band_is_the_same_for_every_birth_date_of_that_age(case):
    on, code, first, second, history, others, deferrals = case
    product = PRODUCTS[code]

    def verdict(birth):
        return assess(product=product, on=on, birth_date=birth, history=history, products=PRODUCTS,
                      other_vaccinations=others, deferrals=deferrals)

    mine = verdict(first)
    shared = age_band_open(product, on, age_on(first, on)) and mine.kind == "primary"
    event(f"shared: {shared}, {mine.status}")
    if shared:
        assert verdict(second) == mine
