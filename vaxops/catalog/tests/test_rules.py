"""Dose-schedule and eligibility rules (NHC guideline 2021-03-29 and the booster notices).

One test per rule, named as the rule, plus Hypothesis properties over generated histories.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from vaxops.catalog.rules import (
    REASON_MESSAGES,
    ActiveDeferral,
    OtherVaccination,
    PriorDose,
    ProductRule,
    SeriesSettings,
    Verdict,
    age_on,
    assess,
    date_of_age,
    load_products,
)

PRODUCTS = load_products()
ADULT = date(1980, 5, 17)


def days(n: int) -> timedelta:
    return timedelta(days=n)


def primary(code: str, number: int, given_on: date) -> PriorDose:
    return PriorDose(product_code=code, dose_number=number, kind="primary", given_on=given_on)


def booster(code: str, number: int, given_on: date) -> PriorDose:
    return PriorDose(product_code=code, dose_number=number, kind="booster", given_on=given_on)


def check(
    code: str,
    on: date,
    history: Sequence[PriorDose] = (),
    *,
    birth_date: date = ADULT,
    other_vaccinations: Sequence[OtherVaccination] = (),
    deferrals: Sequence[ActiveDeferral] = (),
) -> Verdict:
    return assess(
        product=PRODUCTS[code],
        on=on,
        birth_date=birth_date,
        history=history,
        products=PRODUCTS,
        other_vaccinations=other_vaccinations,
        deferrals=deferrals,
    )


def two_inactivated(completed_on: date, code: str = "BIBP") -> list[PriorDose]:
    return [primary(code, 1, completed_on - days(28)), primary(code, 2, completed_on)]


# -- the data ---------------------------------------------------------------------------


def test_products_file_holds_the_five_products_of_the_guideline() -> None:
    assert set(PRODUCTS) == {"BIBP", "WIBP", "CORONAVAC", "AD5", "ZF2001"}
    assert {p.doses_in_series for p in PRODUCTS.values()} == {1, 2, 3}
    assert PRODUCTS["ZF2001"].doses[2].due_by_days_from_dose1 == 180
    assert all(p.series == "COVID19" for p in PRODUCTS.values())
    assert PRODUCTS["BIBP"].series_settings.other_vaccine_more_than_days == 14


@pytest.mark.parametrize("code", sorted(PRODUCTS))
def test_product_rule_round_trips_through_a_json_dict(code: str) -> None:
    stored = json.loads(json.dumps(PRODUCTS[code].to_dict()))
    assert ProductRule.from_dict(stored) == PRODUCTS[code]


def test_inconsistent_product_dict_is_rejected() -> None:
    d = PRODUCTS["BIBP"].to_dict()
    with pytest.raises(ValueError):
        ProductRule.from_dict({**d, "doses_in_series": 3})
    with pytest.raises(ValueError):
        ProductRule.from_dict({**d, "doses": list(reversed(d["doses"]))})
    with pytest.raises(ValueError):
        ProductRule.from_dict({**d, "series": "FLU"})


# -- age with effective dates -------------------------------------------------------------


def test_adult_is_eligible_for_dose_one_from_the_campaign_start() -> None:
    verdict = check("BIBP", date(2021, 1, 15))
    assert (verdict.status, verdict.dose_number, verdict.kind) == ("eligible", 1, "primary")
    assert verdict.reasons == ()


def test_under_18_before_july_2021_is_not_yet_eligible_for_bibp() -> None:
    verdict = check("BIBP", date(2021, 6, 1), birth_date=date(2006, 3, 1))
    assert verdict.status == "not_yet"
    assert verdict.reason_codes == ("age_group_not_yet_open",)
    assert verdict.earliest_date == date(2021, 7, 1)


def test_15_year_old_in_july_2021_is_eligible_for_bibp() -> None:
    assert check("BIBP", date(2021, 7, 15), birth_date=date(2006, 3, 1)).status == "eligible"


def test_15_year_old_is_not_yet_eligible_for_ad5_until_18() -> None:
    # AD5 has only an 18+ rule: 15 is below anything the product was ever authorised for.
    verdict = check("AD5", date(2021, 7, 15), birth_date=date(2006, 3, 1))
    assert verdict.status == "not_yet"
    assert verdict.reason_codes == ("age_below_product_minimum",)
    assert verdict.earliest_date == date(2024, 3, 1)


def test_5_year_old_in_november_2021_is_eligible_for_coronavac() -> None:
    assert check("CORONAVAC", date(2021, 11, 1), birth_date=date(2016, 5, 1)).status == "eligible"


def test_5_year_old_before_late_october_2021_waits_for_the_3_to_11_band() -> None:
    verdict = check("CORONAVAC", date(2021, 9, 1), birth_date=date(2016, 5, 1))
    assert (verdict.status, verdict.earliest_date) == ("not_yet", date(2021, 10, 25))


def test_2_year_old_waits_for_the_third_birthday() -> None:
    verdict = check("CORONAVAC", date(2021, 11, 1), birth_date=date(2019, 2, 10))
    # 3 is the lowest age any CoronaVac rule allows, so a 2-year-old gets the product minimum.
    assert (verdict.status, verdict.reason_codes) == ("not_yet", ("age_below_product_minimum",))
    assert verdict.earliest_date == date(2022, 2, 10)


def test_age_above_every_band_is_refused() -> None:
    children_only = dataclasses.replace(
        PRODUCTS["CORONAVAC"], age_rules=(dataclasses.replace(PRODUCTS["CORONAVAC"].age_rules[2]),)
    )
    verdict = assess(
        product=children_only, on=date(2021, 11, 1), birth_date=ADULT, history=[], products=PRODUCTS
    )
    assert (verdict.status, verdict.reason_codes) == ("refused", ("age_above_maximum",))


def test_age_in_completed_years_and_29_february() -> None:
    assert age_on(date(2000, 2, 29), date(2018, 2, 28)) == 17
    assert age_on(date(2000, 2, 29), date(2018, 3, 1)) == 18
    assert date_of_age(date(2000, 2, 29), 18) == date(2018, 3, 1)
    assert date_of_age(date(2000, 2, 29), 20) == date(2020, 2, 29)


def test_person_born_after_the_assessment_date_is_refused() -> None:
    verdict = check("BIBP", date(2021, 6, 1), birth_date=date(2021, 6, 2))
    assert (verdict.status, verdict.reason_codes) == ("refused", ("not_born",))


# -- minimum interval and due-by ----------------------------------------------------------


def test_dose_two_before_21_days_is_not_yet() -> None:
    dose1 = date(2021, 5, 1)
    verdict = check("BIBP", dose1 + days(20), [primary("BIBP", 1, dose1)])
    assert verdict.status == "not_yet"
    assert verdict.reason_codes == ("min_interval",)
    assert verdict.earliest_date == dose1 + days(21)
    assert verdict.dose_number == 2


def test_dose_two_at_21_days_is_eligible() -> None:
    dose1 = date(2021, 5, 1)
    verdict = check("BIBP", dose1 + days(21), [primary("BIBP", 1, dose1)])
    assert (verdict.status, verdict.dose_number, verdict.due_by) == ("eligible", 2, dose1 + days(56))
    assert verdict.overdue is False


def test_zf2001_doses_are_at_least_28_days_apart() -> None:
    dose1 = date(2021, 5, 1)
    assert check("ZF2001", dose1 + days(27), [primary("ZF2001", 1, dose1)]).earliest_date == dose1 + days(28)
    history = [primary("ZF2001", 1, dose1), primary("ZF2001", 2, dose1 + days(30))]
    verdict = check("ZF2001", dose1 + days(57), history)
    assert (verdict.status, verdict.earliest_date) == ("not_yet", dose1 + days(58))
    verdict = check("ZF2001", dose1 + days(58), history)
    assert (verdict.status, verdict.dose_number, verdict.due_by) == ("eligible", 3, dose1 + days(180))


def test_late_dose_two_is_eligible_and_flagged_overdue_without_restart() -> None:
    dose1 = date(2021, 5, 1)
    verdict = check("BIBP", dose1 + days(90), [primary("BIBP", 1, dose1)])
    assert (verdict.status, verdict.dose_number, verdict.overdue) == ("eligible", 2, True)
    assert [n.code for n in verdict.notes] == ["dose_overdue"]
    assert verdict.notes[0].params["days_late"] == 34


# -- interchangeability -------------------------------------------------------------------


def test_series_completed_with_another_product_of_the_same_platform() -> None:
    dose1 = date(2021, 5, 1)
    verdict = check("BIBP", dose1 + days(30), [primary("CORONAVAC", 1, dose1)])
    assert (verdict.status, verdict.dose_number) == ("eligible", 2)
    assert [n.code for n in verdict.notes] == ["product_switch"]


def test_two_dose_and_three_dose_schedules_never_mix() -> None:
    dose1 = date(2021, 5, 1)
    verdict = check("ZF2001", dose1 + days(30), [primary("BIBP", 1, dose1)])
    assert verdict.status == "refused"
    assert "schedule_mix" in verdict.reason_codes
    verdict = check("BIBP", dose1 + days(30), [primary("ZF2001", 1, dose1)])
    assert "schedule_mix" in verdict.reason_codes


def test_another_platform_for_a_primary_series_is_refused() -> None:
    verdict = check("AD5", date(2021, 6, 1), [primary("BIBP", 1, date(2021, 5, 1))])
    assert verdict.status == "refused"
    assert "platform_mix" in verdict.reason_codes


def test_same_schedule_on_another_platform_is_refused_as_platform_mix_alone() -> None:
    mrna = dataclasses.replace(PRODUCTS["BIBP"], code="MRNA2", platform="mrna", booster_rules=())
    products = {**PRODUCTS, "MRNA2": mrna}
    verdict = assess(
        product=mrna,
        on=date(2021, 6, 1),
        birth_date=ADULT,
        history=[primary("BIBP", 1, date(2021, 5, 1))],
        products=products,
    )
    assert (verdict.status, verdict.reason_codes) == ("refused", ("platform_mix",))


def test_unknown_product_in_history_is_refused() -> None:
    verdict = check("BIBP", date(2021, 6, 1), [primary("SPUTNIK", 1, date(2021, 5, 1))])
    assert (verdict.status, verdict.reason_codes) == ("refused", ("unknown_product",))


# -- boosters -----------------------------------------------------------------------------


def test_booster_at_180_days_after_completion_is_eligible() -> None:
    completed = date(2021, 5, 1)
    verdict = check("BIBP", completed + days(180), two_inactivated(completed))
    assert (verdict.status, verdict.kind, verdict.dose_number) == ("eligible", "booster", 3)
    assert [n.code for n in verdict.notes] == ["booster_homologous"]


def test_booster_before_180_days_after_completion_is_not_yet() -> None:
    completed = date(2021, 5, 1)
    verdict = check("BIBP", date(2021, 10, 15), two_inactivated(completed))
    assert (verdict.status, verdict.reason_codes) == ("not_yet", ("booster_interval",))
    assert verdict.earliest_date == completed + days(180)


def test_booster_is_not_given_before_october_2021() -> None:
    completed = date(2021, 1, 20)
    verdict = check("BIBP", date(2021, 9, 1), two_inactivated(completed))
    assert (verdict.status, verdict.reason_codes) == ("not_yet", ("booster_not_started",))
    assert verdict.earliest_date == date(2021, 10, 1)


def test_booster_needs_age_18() -> None:
    completed = date(2021, 8, 1)
    verdict = check("BIBP", date(2022, 3, 1), two_inactivated(completed), birth_date=date(2006, 3, 1))
    assert (verdict.status, verdict.reason_codes) == ("not_yet", ("booster_age_below_minimum",))
    assert verdict.earliest_date == date(2024, 3, 1)


def test_homologous_booster_must_be_the_product_of_the_series() -> None:
    completed = date(2021, 4, 1)
    verdict = check("WIBP", date(2021, 12, 1), two_inactivated(completed))
    assert (verdict.status, verdict.reason_codes) == ("refused", ("booster_product_not_allowed",))
    assert verdict.reasons[0].params["allowed"] == "AD5, BIBP, ZF2001"


def test_mixed_series_is_boosted_with_the_last_or_else_the_first_product() -> None:
    history = [primary("CORONAVAC", 1, date(2021, 3, 1)), primary("BIBP", 2, date(2021, 4, 1))]
    assert check("BIBP", date(2021, 12, 1), history).status == "eligible"
    verdict = check("CORONAVAC", date(2021, 12, 1), history)
    assert verdict.status == "eligible"
    assert [n.code for n in verdict.notes] == ["booster_homologous", "booster_first_dose_product"]


def test_ad5_series_is_boosted_with_ad5() -> None:
    history = [primary("AD5", 1, date(2021, 4, 1))]
    verdict = check("AD5", date(2021, 10, 1), history)
    assert (verdict.status, verdict.dose_number, verdict.kind) == ("eligible", 2, "booster")
    assert check("BIBP", date(2021, 10, 1), history).reason_codes == ("booster_product_not_allowed",)


def test_sequential_booster_after_two_inactivated_doses_from_february_2022() -> None:
    completed = date(2021, 4, 1)
    for code in ("ZF2001", "AD5"):
        before = check(code, date(2022, 1, 31), two_inactivated(completed))
        assert (before.status, before.reason_codes) == ("not_yet", ("booster_not_started",))
        assert before.earliest_date == date(2022, 2, 1)
        after = check(code, date(2022, 2, 1), two_inactivated(completed))
        assert (after.status, after.kind, after.dose_number) == ("eligible", "booster", 3)
        assert [n.code for n in after.notes] == ["booster_sequential"]


def test_sequential_booster_only_if_no_booster_yet() -> None:
    history = [*two_inactivated(date(2021, 4, 1)), booster("BIBP", 3, date(2021, 11, 1))]
    verdict = check("ZF2001", date(2022, 6, 1), history)
    assert (verdict.status, verdict.reason_codes) == ("refused", ("series_complete",))


def test_series_complete_and_booster_given_is_refused() -> None:
    history = [*two_inactivated(date(2021, 4, 1)), booster("BIBP", 3, date(2021, 11, 1))]
    verdict = check("BIBP", date(2022, 6, 1), history)
    assert (verdict.status, verdict.reason_codes) == ("refused", ("series_complete",))
    assert verdict.dose_number is None


def test_completed_zf2001_series_has_no_booster() -> None:
    dose1 = date(2021, 3, 1)
    history = [primary("ZF2001", n, dose1 + days(30 * (n - 1))) for n in (1, 2, 3)]
    assert check("ZF2001", date(2022, 6, 1), history).reason_codes == ("series_complete",)


# -- other vaccines and deferrals ---------------------------------------------------------


def test_another_vaccine_within_14_days_is_not_yet() -> None:
    other = date(2021, 6, 1)
    verdict = check("BIBP", other + days(14), other_vaccinations=[OtherVaccination(other)])
    assert (verdict.status, verdict.reason_codes) == ("not_yet", ("other_vaccine_interval",))
    assert verdict.earliest_date == other + days(15)
    assert check("BIBP", other + days(15), other_vaccinations=[OtherVaccination(other)]).status == "eligible"


def test_post_exposure_rabies_vaccine_needs_no_interval() -> None:
    other = date(2021, 6, 1)
    verdict = check(
        "BIBP", other, other_vaccinations=[OtherVaccination(other, exempt=True, description="rabies")]
    )
    assert verdict.status == "eligible"


def test_dose_of_another_series_counts_as_another_vaccine() -> None:
    flu = PriorDose("FLU", 1, "primary", date(2021, 6, 1), series="INFLUENZA")
    verdict = check("BIBP", date(2021, 6, 10), [flu])
    assert (verdict.reason_codes, verdict.dose_number) == (("other_vaccine_interval",), 1)


def test_campaign_setting_overrides_the_other_vaccine_interval() -> None:
    other = date(2021, 6, 1)
    verdict = assess(
        product=PRODUCTS["BIBP"],
        on=other + days(8),
        birth_date=ADULT,
        history=[],
        products=PRODUCTS,
        other_vaccinations=[OtherVaccination(other)],
        series_settings=SeriesSettings("COVID19", "新冠病毒疫苗", "COVID-19 vaccine", 7),
    )
    assert verdict.status == "eligible"


def test_deferral_with_an_end_date_is_not_yet_until_the_day_after() -> None:
    deferral = ActiveDeferral("fever", until=date(2021, 6, 3))
    verdict = check("BIBP", date(2021, 6, 1), deferrals=[deferral])
    assert (verdict.status, verdict.reason_codes) == ("not_yet", ("deferred",))
    assert verdict.earliest_date == date(2021, 6, 4)
    assert check("BIBP", date(2021, 6, 4), deferrals=[deferral]).status == "eligible"


def test_deferral_without_an_end_date_is_refused() -> None:
    verdict = check("BIBP", date(2021, 6, 1), deferrals=[ActiveDeferral("pregnancy")])
    assert (verdict.status, verdict.reason_codes) == ("refused", ("deferred_indefinitely",))


def test_every_obstacle_is_reported_and_the_latest_date_wins() -> None:
    dose1 = date(2021, 6, 1)
    verdict = check(
        "BIBP",
        dose1 + days(5),
        [primary("BIBP", 1, dose1)],
        other_vaccinations=[OtherVaccination(dose1 + days(4))],
        deferrals=[ActiveDeferral("fever", until=dose1 + days(7))],
    )
    assert set(verdict.reason_codes) == {"min_interval", "other_vaccine_interval", "deferred"}
    assert verdict.earliest_date == dose1 + days(21)


def test_doses_after_the_assessment_date_are_ignored() -> None:
    verdict = check("BIBP", date(2021, 6, 1), [primary("BIBP", 1, date(2021, 6, 2))])
    assert (verdict.status, verdict.dose_number) == ("eligible", 1)


# -- properties ---------------------------------------------------------------------------

codes = st.sampled_from(sorted(PRODUCTS))


@st.composite
def scenarios(draw: st.DrawFn) -> dict:
    """A person with a plausible history: a series started with one product (sometimes
    switching within the platform), maybe a booster, maybe other vaccines and deferrals."""
    birth_date = draw(
        st.one_of(
            st.dates(date(1930, 1, 1), date(2003, 12, 31)), st.dates(date(2003, 1, 1), date(2019, 12, 31))
        )
    )
    start = draw(st.dates(date(2021, 1, 1), date(2022, 6, 30)))
    first = PRODUCTS[draw(codes)]
    same_platform = sorted(c for c, p in PRODUCTS.items() if p.platform == first.platform)
    history: list[PriorDose] = []
    given_on = start
    for number in range(1, draw(st.integers(0, first.doses_in_series)) + 1):
        if number > 1:
            given_on += days(draw(st.integers(0, 120)))
        history.append(primary(draw(st.sampled_from(same_platform)), number, given_on))
    if len(history) == first.doses_in_series and draw(st.integers(0, 3)) == 0:
        given_on += days(draw(st.integers(0, 400)))
        history.append(booster(draw(codes), len(history) + 1, given_on))
    on = given_on + days(draw(st.integers(0, 400)))
    others = [
        OtherVaccination(on - days(draw(st.integers(0, 30))), exempt=draw(st.booleans()))
        for _ in range(draw(st.integers(0, 2)))
    ]
    deferrals = [
        ActiveDeferral("fever", until=on + days(draw(st.integers(-5, 30))))
        for _ in range(draw(st.integers(0, 1)))
    ]
    return {
        # Mostly a product that may continue the series, so that eligible verdicts are common.
        "product": PRODUCTS[draw(st.one_of(st.sampled_from(same_platform), codes))],
        "on": on,
        "birth_date": birth_date,
        "history": history,
        "products": PRODUCTS,
        "other_vaccinations": others,
        "deferrals": deferrals,
    }


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios())
def test_verdict_is_consistent_and_every_message_renders(scenario: dict) -> None:
    verdict = assess(**scenario)
    assert (verdict.status == "not_yet") == (verdict.earliest_date is not None)
    assert (verdict.status == "eligible") == (verdict.reasons == ())
    if verdict.earliest_date is not None:
        assert verdict.earliest_date > scenario["on"]
    for reason in (*verdict.reasons, *verdict.notes):
        assert reason.code in REASON_MESSAGES
        assert reason.message_en
        json.dumps(reason.params)


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios())
def test_assessing_again_on_the_earliest_date_is_eligible(scenario: dict) -> None:
    verdict = assess(**scenario)
    assume(verdict.status == "not_yet")
    assert verdict.earliest_date is not None
    again = assess(**{**scenario, "on": verdict.earliest_date})
    assert again.status == "eligible", again.reasons
    assert (again.dose_number, again.kind) == (verdict.dose_number, verdict.kind)
    day_before = assess(**{**scenario, "on": verdict.earliest_date - days(1)})
    assert day_before.status == "not_yet"


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios())
def test_primary_dose_number_is_prior_primary_doses_plus_one(scenario: dict) -> None:
    verdict = assess(**scenario)
    if verdict.kind == "primary":
        assert verdict.dose_number == len(scenario["history"]) + 1
        assert verdict.dose_number <= scenario["product"].doses_in_series


@settings(max_examples=300, deadline=None)
@given(scenario=scenarios())
def test_eligible_dose_always_respects_the_minimum_interval(scenario: dict) -> None:
    verdict = assess(**scenario)
    if not (verdict.status == "eligible" and verdict.kind == "primary" and scenario["history"]):
        return
    assert verdict.dose_number is not None
    min_days = scenario["product"].doses[verdict.dose_number - 1].min_interval_days or 0
    assert scenario["on"] - scenario["history"][-1].given_on >= days(min_days)


@settings(max_examples=200, deadline=None)
@given(
    code=st.sampled_from(["BIBP", "WIBP", "CORONAVAC"]), dose1=st.dates(date(2021, 1, 1), date(2022, 12, 31))
)
def test_dose_two_is_never_eligible_before_the_minimum_interval(code: str, dose1: date) -> None:
    for gap in range(0, 21):
        verdict = check(code, dose1 + days(gap), [primary(code, 1, dose1)])
        assert verdict.status == "not_yet"
        assert verdict.earliest_date == dose1 + days(21)


@st.composite
def booster_scenarios(draw: st.DrawFn) -> dict:
    """A completed 2-dose inactivated or 1-dose AD5 series, assessed for a booster."""
    series = draw(st.sampled_from([["BIBP", "BIBP"], ["CORONAVAC", "BIBP"], ["WIBP", "WIBP"], ["AD5"]]))
    completed = draw(st.dates(date(2021, 1, 1), date(2022, 6, 30)))
    history = [primary(code, n, completed - days(30 * (len(series) - n))) for n, code in enumerate(series, 1)]
    return {
        "product": PRODUCTS[draw(st.sampled_from(["AD5", "ZF2001", *series]))],
        "on": completed + days(draw(st.integers(0, 500))),
        "birth_date": draw(st.dates(date(1940, 1, 1), date(2008, 12, 31))),
        "history": history,
        "products": PRODUCTS,
    }


@settings(max_examples=300, deadline=None)
@given(scenario=booster_scenarios())
def test_eligible_booster_is_at_least_180_days_after_completion(scenario: dict) -> None:
    verdict = assess(**scenario)
    assert verdict.kind == "booster" or verdict.status == "refused"
    if verdict.status == "not_yet":
        again = assess(**{**scenario, "on": verdict.earliest_date})
        assert again.status == "eligible"
    if verdict.status != "eligible":
        return
    primaries = [d for d in scenario["history"] if d.kind == "primary"]
    assert scenario["on"] - primaries[-1].given_on >= days(180)
    assert scenario["on"] >= date(2021, 10, 1)
    assert age_on(scenario["birth_date"], scenario["on"]) >= 18


@settings(max_examples=300, deadline=None)
@given(birth_date=st.dates(date(1900, 1, 1), date(2020, 12, 31)), years=st.integers(0, 100))
def test_date_of_age_is_the_first_day_of_that_age(birth_date: date, years: int) -> None:
    reached = date_of_age(birth_date, years)
    assert age_on(birth_date, reached) == years
    if years > 0:
        assert age_on(birth_date, reached - days(1)) == years - 1
