"""Which refusals a site manager may override: a small, named set held as catalogue data.

Overridable: a deferral in force that a doctor has cleared, the 14-day gap to another vaccine,
and an age rule not yet in force for an age the product is approved for by another of its
rules. Everything else is hard for everyone (issue 6, section 1).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaxops.catalog.rules import (
    DEFAULT_PRODUCTS_PATH,
    NEVER_OVERRIDABLE,
    OBSTACLE_CODES,
    REASON_MESSAGES,
    ActiveDeferral,
    OtherVaccination,
    PriorDose,
    ProductRule,
    SeriesSettings,
    age_on,
    assess,
    load_products,
)

PRODUCTS = load_products()
ADULT = date(1980, 5, 17)


def check(code, on, history=(), *, birth_date=ADULT, other_vaccinations=(), deferrals=()):
    return assess(product=PRODUCTS[code], on=on, birth_date=birth_date, history=history, products=PRODUCTS,
                  other_vaccinations=other_vaccinations, deferrals=deferrals)


def primary(code: str, number: int, given_on: date) -> PriorDose:
    return PriorDose(product_code=code, dose_number=number, kind="primary", given_on=given_on)


def test_the_overridable_set_is_catalogue_data() -> None:
    raw = json.loads(DEFAULT_PRODUCTS_PATH.read_text(encoding="utf-8"))
    listed = set(raw["series"]["COVID19"]["overridable_reasons"])
    assert listed == {"deferred", "deferred_indefinitely", "other_vaccine_interval", "age_group_not_yet_open"}
    assert all(p.series_settings.overridable_reasons == listed for p in PRODUCTS.values())


def test_a_products_file_may_not_make_a_hard_reason_overridable() -> None:
    base = PRODUCTS["BIBP"].series_settings.to_dict()
    for code in sorted(NEVER_OVERRIDABLE):
        with pytest.raises(ValueError):
            SeriesSettings.from_dict({**base, "overridable_reasons": [code]})
    with pytest.raises(ValueError):
        SeriesSettings.from_dict({**base, "overridable_reasons": ["no_such_reason"]})


def test_stored_settings_without_the_list_override_nothing() -> None:
    stored = PRODUCTS["BIBP"].to_dict()
    del stored["series_settings"]["overridable_reasons"]
    rule = ProductRule.from_dict(stored)
    verdict = assess(product=rule, on=date(2021, 6, 1), birth_date=ADULT, history=[], products=PRODUCTS,
                     deferrals=[ActiveDeferral("acute_illness", until=date(2021, 6, 3))])
    assert verdict.status == "not_yet" and verdict.overridable is False


def test_every_obstacle_code_has_a_message() -> None:
    assert set(REASON_MESSAGES) >= OBSTACLE_CODES


def test_product_approval_dates_are_data() -> None:
    assert PRODUCTS["BIBP"].approved_on == date(2020, 7, 22)
    assert PRODUCTS["AD5"].approved_on == date(2021, 2, 25)
    assert PRODUCTS["ZF2001"].approved_on == date(2021, 3, 10)


# -- the trial's reproductions ------------------------------------------------------------------


def test_one_year_old_on_wibp_is_a_hard_refusal() -> None:
    verdict = check("WIBP", date(2021, 6, 1), birth_date=date(2020, 3, 1))
    assert verdict.reason_codes == ("age_below_product_minimum",)
    assert verdict.overridable is False


def test_one_year_old_on_bibp_is_a_hard_refusal_although_bibp_later_opens_to_3_year_olds() -> None:
    verdict = check("BIBP", date(2021, 11, 1), birth_date=date(2020, 3, 1))
    assert verdict.reason_codes == ("age_below_product_minimum",)
    assert verdict.overridable is False


def test_17_year_old_on_wibp_in_april_2021_is_a_hard_refusal() -> None:
    # WIBP only ever had an 18+ rule.
    verdict = check("WIBP", date(2021, 4, 20), birth_date=date(2003, 9, 1))
    assert age_on(date(2003, 9, 1), date(2021, 4, 20)) == 17
    assert verdict.reason_codes == ("age_below_product_minimum",)
    assert verdict.overridable is False


def test_15_year_old_on_bibp_in_june_2021_may_be_overridden() -> None:
    # BIBP's 12-17 rule starts 2021-07-01: the product is approved for 15, just not yet.
    verdict = check("BIBP", date(2021, 6, 1), birth_date=date(2006, 3, 1))
    assert verdict.reason_codes == ("age_group_not_yet_open",)
    assert verdict.overridable is True


def test_11_year_old_turning_12_before_july_is_waiting_for_an_age_rule_not_yet_in_force() -> None:
    # 11 is covered by BIBP's 3-11 rule (from 2021-10-25): approved for the age elsewhere.
    verdict = check("BIBP", date(2021, 6, 1), birth_date=date(2009, 6, 15))
    assert verdict.reason_codes == ("age_group_not_yet_open",)
    assert verdict.overridable is True


def test_a_deferral_in_force_may_be_overridden_once_a_doctor_has_cleared_it() -> None:
    short = check("BIBP", date(2021, 6, 1), deferrals=[ActiveDeferral("acute_illness", until=date(2021, 6, 5))])
    open_ended = check("BIBP", date(2021, 6, 1), deferrals=[ActiveDeferral("allergy")])
    assert short.overridable and open_ended.overridable


def test_the_14_day_gap_to_another_vaccine_may_be_overridden() -> None:
    verdict = check("BIBP", date(2021, 6, 1), other_vaccinations=[OtherVaccination(date(2021, 5, 25))])
    assert verdict.reason_codes == ("other_vaccine_interval",)
    assert verdict.overridable is True


@pytest.mark.parametrize(
    ("code", "on", "history", "expected"),
    [
        ("BIBP", date(2021, 5, 10), [primary("BIBP", 1, date(2021, 5, 1))], "min_interval"),
        ("ZF2001", date(2021, 6, 1), [primary("BIBP", 1, date(2021, 5, 1))], "schedule_mix"),
        ("BIBP", date(2021, 6, 1),
         [primary("BIBP", 1, date(2021, 4, 1)), primary("BIBP", 2, date(2021, 5, 1))], "booster_not_started"),
        ("BIBP", date(2021, 6, 1), [primary("NOPE", 1, date(2021, 5, 1))], "unknown_product"),
    ],
)
def test_other_refusals_are_hard(code, on, history, expected) -> None:
    verdict = check(code, on, history)
    assert expected in verdict.reason_codes
    assert verdict.overridable is False


def test_a_hard_reason_beside_an_overridable_one_makes_the_refusal_hard() -> None:
    verdict = check("BIBP", date(2021, 5, 10), [primary("BIBP", 1, date(2021, 5, 1))],
                    deferrals=[ActiveDeferral("acute_illness", until=date(2021, 5, 12))])
    assert set(verdict.reason_codes) == {"min_interval", "deferred"}
    assert verdict.overridable is False
    assert [r.code for r in verdict.hard_reasons] == ["min_interval"]


def test_an_eligible_verdict_is_not_an_override() -> None:
    assert check("BIBP", date(2021, 6, 1)).overridable is False


# -- properties ---------------------------------------------------------------------------------

codes = st.sampled_from(sorted(PRODUCTS))


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """Anyone from a newborn to an old person, any product, any history of the series."""
    on = draw(st.dates(date(2021, 1, 1), date(2022, 12, 31)))
    birth_date = draw(st.dates(date(1925, 1, 1), on + timedelta(days=30)))
    history = []
    given_on = on - timedelta(days=draw(st.integers(0, 400)))
    for number in range(1, draw(st.integers(0, 3)) + 1):
        history.append(primary(draw(codes), number, given_on))
        given_on += timedelta(days=draw(st.integers(0, 60)))
    return {
        "product": PRODUCTS[draw(codes)],
        "on": on,
        "birth_date": birth_date,
        "history": [d for d in history if d.given_on <= on],
        "products": PRODUCTS,
        "other_vaccinations": [OtherVaccination(on - timedelta(days=draw(st.integers(0, 30))))
                               for _ in range(draw(st.integers(0, 1)))],
        "deferrals": [ActiveDeferral("acute_illness", until=draw(st.one_of(st.none(), st.just(on))))
                      for _ in range(draw(st.integers(0, 1)))],
    }


@settings(max_examples=400, deadline=None)
@given(scenario=scenarios())
def test_a_refusal_with_any_hard_reason_is_never_overridable(scenario: dict) -> None:
    verdict = assess(**scenario)
    allowed = scenario["product"].series_settings.overridable_reasons
    if any(r.code not in allowed for r in verdict.reasons):
        assert verdict.overridable is False
    if verdict.overridable:
        assert verdict.status != "eligible"
        assert all(r.code in allowed for r in verdict.reasons)
        assert not set(verdict.reason_codes) & NEVER_OVERRIDABLE


@settings(max_examples=400, deadline=None)
@given(scenario=scenarios())
def test_ages_below_the_products_lowest_minimum_are_always_hard(scenario: dict) -> None:
    product = scenario["product"]
    age = age_on(scenario["birth_date"], scenario["on"]) if scenario["birth_date"] <= scenario["on"] else -1
    verdict = assess(**scenario)
    if age < product.lowest_min_age:
        assert verdict.status != "eligible"
        assert verdict.overridable is False
        assert {"age_below_product_minimum", "not_born"} & set(verdict.reason_codes)


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios())
def test_an_overridden_age_is_one_the_product_is_approved_for_by_some_rule(scenario: dict) -> None:
    verdict = assess(**scenario)
    if "age_group_not_yet_open" not in verdict.reason_codes:
        return
    age = age_on(scenario["birth_date"], scenario["on"])
    assert any(r.min_age_years <= age and (r.max_age_years is None or age <= r.max_age_years)
               for r in scenario["product"].age_rules)
