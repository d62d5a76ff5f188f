"""The checklist's pure rules, item by item, with properties over the values."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxops.staff import readiness_rules as rules

CHECKLIST = rules.load_checklist()
DAY = dt.date(2021, 5, 11)
KIT = {"adrenaline": "2022-06-30", "antihistamine": "2022-06-30", "corticosteroid": "2022-06-30",
       "oxygen": True, "resuscitation_equipment": True}


def facts(**kw):
    base = {"date": DAY, "site_kind": "mass_site", "planned_doses": 900, "session_minutes": 540,
            "products": ("BIBP",), "roster": (
                rules.RosterFact(1, "doctor", 2), rules.RosterFact(2, "vaccinator", None, {"BIBP": dt.date(2021, 12, 31)}))}
    base.update(kw)
    return rules.SessionFacts(**base)


def values(**kw):
    base = {"ambulance": {"plate": "川V·12345", "crew": ["张"]}, "emergency_kit": {"checked": True, "drugs": KIT},
            "observation_seats": 120, "cold_chain_reading": 5.0}
    base.update(kw)
    return {k: rules.parse_value(CHECKLIST, k, v) for k, v in base.items() if v is not None}


def state(item, f=None, **kw):
    return rules.evaluate(CHECKLIST, f or facts(), values(**kw))[item]


def test_a_complete_checklist_misses_nothing():
    assert rules.missing(rules.evaluate(CHECKLIST, facts(), values())) == []


def test_nothing_submitted_misses_every_submitted_item_as_not_recorded():
    states = rules.evaluate(CHECKLIST, facts(), {})
    assert rules.missing(states) == ["ambulance", "emergency_kit", "observation_seats", "cold_chain_reading"]
    assert states["ambulance"] == {"reason": "not_recorded"}


def test_items_come_in_checklist_order_from_data():
    assert CHECKLIST.codes == ("doctor_level2", "ambulance", "emergency_kit", "observation_seats",
                               "cold_chain_reading", "vaccinators_trained")


@pytest.mark.parametrize(("level", "role", "ok"), [(2, "doctor", True), (3, "doctor", True), (1, "doctor", False),
                                                   (None, "doctor", False), (3, "nurse", False)])
def test_doctor_from_level_2_or_higher_hospital(level, role, ok):
    f = facts(roster=(rules.RosterFact(1, role, level), rules.RosterFact(2, "vaccinator", None, {"BIBP": DAY})))
    assert (state("doctor_level2", f) is None) is ok


def test_an_empty_roster_misses_the_doctor_and_the_vaccinators():
    states = rules.evaluate(CHECKLIST, facts(roster=()), values())
    assert rules.missing(states) == ["doctor_level2", "vaccinators_trained"]
    assert states["vaccinators_trained"] == {"reason": "no_vaccinator"}


@pytest.mark.parametrize(("until", "products", "ok"), [
    (DAY, ("BIBP",), True), (DAY - dt.timedelta(days=1), ("BIBP",), False),
    (dt.date(2022, 1, 1), ("BIBP", "CORONAVAC"), False), (dt.date(2022, 1, 1), (), True)])
def test_vaccinators_trained_for_every_product_on_the_day(until, products, ok):
    f = facts(products=products, roster=(rules.RosterFact(1, "doctor", 2),
                                         rules.RosterFact(7, "vaccinator", None, {"BIBP": until})))
    got = state("vaccinators_trained", f)
    assert (got is None) is ok
    if not ok:
        assert got == {"reason": "vaccinators_untrained", "staff": [7]}


def test_ambulance_distance_only_for_small_sites_and_within_the_limit():
    near = {"minutes": 20, "distance_km": 12.5}
    assert state("ambulance", ambulance=near)["reason"] == "ambulance_on_site_required"
    for kind in ("township_health_centre", "mobile_team", "point_to_point"):
        assert state("ambulance", facts(site_kind=kind), ambulance=near) is None
    far = state("ambulance", facts(site_kind="mobile_team"), ambulance={"minutes": 31})
    assert far == {"reason": "ambulance_too_far", "minutes": 31, "max_minutes": 30}


def test_kit_unchecked_missing_or_expired_drugs():
    assert state("emergency_kit", emergency_kit={"checked": False, "drugs": KIT}) == {"reason": "kit_not_checked"}
    no_adrenaline = {k: v for k, v in KIT.items() if k != "adrenaline"}
    got = state("emergency_kit", emergency_kit={"checked": True, "drugs": no_adrenaline})
    assert got == {"reason": "kit_incomplete", "absent": ["adrenaline"], "expired": []}
    expired = {**KIT, "corticosteroid": "2021-05-10"}
    got = state("emergency_kit", emergency_kit={"checked": True, "drugs": expired})
    assert got == {"reason": "kit_incomplete", "absent": [], "expired": ["corticosteroid"]}
    # valid through its expiry day
    assert state("emergency_kit", emergency_kit={"checked": True, "drugs": {**KIT, "adrenaline": "2021-05-11"}}) is None


@given(st.integers(min_value=0, max_value=100_000), st.integers(min_value=0, max_value=20_000),
       st.integers(min_value=30, max_value=900))
def test_seats_enough_exactly_when_at_least_the_rule_needs(seats, planned, minutes):
    f = facts(planned_doses=planned, session_minutes=minutes)
    rule = CHECKLIST.item("observation_seats").rule
    needed = max(rule["minimum"], math.ceil(planned * rule["observation_minutes"] / minutes * rule["peak_factor"] - 1e-9))
    assert rules.seats_needed(rule, f) == needed
    got = state("observation_seats", f, observation_seats=seats)
    assert (got is None) is (seats >= needed)


def test_seats_for_900_doses_over_9_hours():
    # 900 doses in 540 min, 30 min each, peak 1.5: 75 seats.
    assert state("observation_seats", observation_seats=74) == {"reason": "too_few_seats", "seats": 74, "needed": 75}
    assert state("observation_seats", observation_seats=75) is None


@given(st.floats(min_value=-60, max_value=60, allow_nan=False))
def test_reading_in_range_exactly_from_2_to_8(celsius):
    stored = rules.parse_value(CHECKLIST, "cold_chain_reading", celsius)
    got = rules.evaluate(CHECKLIST, facts(), {"cold_chain_reading": stored})["cold_chain_reading"]
    assert (got is None) is (2 <= stored <= 8)
    if got is not None:
        assert got["reason"] == "reading_out_of_range"


@given(st.one_of(st.floats(allow_nan=True, allow_infinity=True).filter(lambda x: not -60 <= x <= 60),
                 st.booleans(), st.none(), st.lists(st.integers()), st.dictionaries(st.text(), st.integers()),
                 st.text().filter(lambda t: not _numeric(t))))
def test_unreadable_reading_is_refused(value):
    with pytest.raises(rules.InvalidValue):
        rules.parse_value(CHECKLIST, "cold_chain_reading", value)


def _numeric(text: str) -> bool:
    try:
        return math.isfinite(float(text.strip().replace(",", ".").replace("−", "-")))
    except ValueError:
        return False


@pytest.mark.parametrize("value", [
    None, [], "plate", {}, {"plate": ""}, {"plate": "川V", "crew": []}, {"plate": "川V", "crew": [1]},
    {"plate": "x" * 17, "crew": ["a"]}, {"plate": "川V", "crew": ["a"], "minutes": 3}, {"minutes": -1},
    {"minutes": 2.5}, {"minutes": "soon"}, {"minutes": 10, "distance_km": -3}, {"minutes": 10, "colour": "red"},
    {"minutes": True}])
def test_malformed_ambulance_is_refused(value):
    with pytest.raises(rules.InvalidValue):
        rules.parse_value(CHECKLIST, "ambulance", value)


@pytest.mark.parametrize("value", [
    None, [], {"drugs": KIT}, {"checked": "yes", "drugs": KIT}, {"checked": True, "drugs": []},
    {"checked": True, "drugs": {"aspirin": "2022-01-01"}}, {"checked": True, "drugs": {"adrenaline": "soon"}},
    {"checked": True, "drugs": {"adrenaline": True}}, {"checked": True, "drugs": {"oxygen": "2022-01-01"}},
    {"checked": True, "drugs": KIT, "extra": 1}])
def test_malformed_kit_is_refused(value):
    with pytest.raises(rules.InvalidValue):
        rules.parse_value(CHECKLIST, "emergency_kit", value)


@given(st.one_of(st.integers(max_value=-1), st.integers(min_value=100_001), st.floats(0.1, 0.9), st.booleans(),
                 st.none(), st.text(alphabet="abc", min_size=1)))
def test_malformed_seats_are_refused(value):
    with pytest.raises(rules.InvalidValue):
        rules.parse_value(CHECKLIST, "observation_seats", value)


def test_crew_as_text_is_split_into_names():
    got = rules.parse_value(CHECKLIST, "ambulance", {"plate": " 川V 123 ", "crew": "张三、李四, 王五"})
    assert got == {"plate": "川V 123", "crew": ["张三", "李四", "王五"]}


def test_unknown_and_computed_items_cannot_be_submitted():
    with pytest.raises(rules.UnknownItem):
        rules.parse_value(CHECKLIST, "helicopter", 1)
    with pytest.raises(rules.ComputedItem):
        rules.parse_value(CHECKLIST, "doctor_level2", True)
