"""The pure AEFI rules, as properties: the clock, the steps, the Brighton level from the signs,
similar and dissimilar events, the window's edges and the lot rule's rise."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxops.safety import catalogue, rules

T0 = dt.datetime(2021, 5, 10, 2, tzinfo=dt.UTC)
WINDOW = dt.timedelta(hours=72)
SIGNS = sorted(catalogue.brighton_signs())
GROUPS = sorted({e["group"] for e in catalogue.events().values()} - {"other"})
# Pure functions, but the machine is shared: no deadline, no complaint about slow generation.
relaxed = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])


def systems(signs, *, major):
    table = catalogue.brighton_signs()
    return {table[s]["system"] for s in signs if table[s]["major"] == major}


def brute_level(signs) -> int | None:
    """The Brighton definition read literally, system by system."""
    major, minor = systems(signs, major=True), systems(signs, major=False)
    cr = {"cardiovascular", "respiratory"}
    if "dermatological" in major and (major & cr):
        return 1
    if cr <= major or any(minor - {s} for s in major & cr) or ("dermatological" in major and minor & cr):
        return 2
    if any(len(minor - {s}) >= 2 for s in minor & cr):
        return 3
    return None


@relaxed
@given(st.lists(st.sampled_from(SIGNS), max_size=8))
def test_brighton_level_follows_the_definition(signs):
    assert rules.brighton_level(signs) == brute_level(signs)


@relaxed
@given(st.lists(st.sampled_from(SIGNS), max_size=8), st.sampled_from(SIGNS))
def test_one_more_sign_never_lowers_the_certainty(signs, extra):
    before, after = rules.brighton_level(signs), rules.brighton_level([*signs, extra])
    if before is not None:
        assert after is not None and after <= before


@relaxed
@given(st.lists(st.sampled_from(SIGNS), max_size=8))
def test_a_level_needs_two_organ_systems(signs):
    if rules.brighton_level(signs) is not None:
        assert len(systems(signs, major=True) | systems(signs, major=False)) >= 2


def test_brighton_examples():
    assert rules.brighton_level(["generalised_urticaria", "measured_hypotension"]) == 1
    assert rules.brighton_level(["measured_hypotension", "stridor"]) == 2
    assert rules.brighton_level(["stridor", "nausea"]) == 2
    assert rules.brighton_level(["angioedema", "hoarse_voice"]) == 2
    assert rules.brighton_level(["dry_cough", "vomiting", "red_itchy_eyes"]) == 3
    assert rules.brighton_level(["dry_cough", "vomiting"]) is None
    assert rules.brighton_level(["generalised_urticaria", "angioedema"]) is None  # one system only


@relaxed
@given(st.booleans(), st.lists(st.sampled_from(sorted(catalogue.serious_criteria())), max_size=3), st.booleans())
def test_the_clock_is_two_hours_exactly_for_serious_deaths_and_clusters(serious, criteria, cluster):
    due = rules.report_due_by(T0, serious=serious, serious_criteria=criteria, in_cluster=cluster)
    two = serious or cluster or "death" in criteria or bool(criteria)
    assert due - T0 == dt.timedelta(hours=2 if two else 48)


def test_the_steps():
    order = ["reported", "triaged", "investigated", "classified", "closed"]
    for step, (start, end) in rules.STEPS.items():
        for status in order:
            assert rules.next_status(status, step) == (end if status == start else None)
        assert order.index(end) == order.index(start) + 1


def case(i, *, groups, hours=0.0, serious=True, site=1, lot=1):
    return rules.Case(id=i, site_id=site, lot_id=lot, onset_at=T0 + dt.timedelta(hours=hours), serious=serious,
                      groups=frozenset(groups))


@relaxed
@given(st.sampled_from(GROUPS), st.floats(min_value=-72, max_value=72))
def test_two_serious_similar_cases_at_one_site_within_the_window_are_a_cluster(group, hours):
    found = rules.site_cluster(case(2, groups={group}, hours=hours), [case(1, groups={group})], window=WINDOW)
    assert found is not None and found[0] == group


@relaxed
@given(st.sampled_from(GROUPS), st.floats(min_value=72.0001, max_value=2000), st.booleans())
def test_outside_the_window_there_is_no_cluster(group, hours, later):
    new = case(2, groups={group}, hours=hours if later else -hours)
    assert rules.site_cluster(new, [case(1, groups={group})], window=WINDOW) is None


def test_the_windows_edge_is_inside():
    new = case(2, groups={"anaphylaxis"}, hours=72)
    assert rules.site_cluster(new, [case(1, groups={"anaphylaxis"})], window=WINDOW) is not None


@relaxed
@given(st.sampled_from(GROUPS), st.sampled_from(GROUPS))
def test_dissimilar_events_or_another_site_or_a_non_serious_case_are_no_cluster(a, b):
    old = case(1, groups={a})
    found = rules.site_cluster(case(2, groups={b}), [old], window=WINDOW)
    assert (found is not None) == (a == b)
    assert rules.site_cluster(case(2, groups={a}, site=2), [old], window=WINDOW) is None
    assert rules.site_cluster(case(2, groups={a}), [case(1, groups={a}, serious=False)], window=WINDOW) is None


def test_other_events_are_similar_to_nothing():
    assert rules.groups_of(["other"]) == frozenset()
    assert rules.groups_of(["fever_38_6", "febrile_convulsion"]) == {"fever", "neurological"}
    assert rules.groups_of(["syncope"]) == rules.groups_of(["hysteria"])


@relaxed
@given(st.integers(0, 50), st.integers(0, 10**6), st.integers(0, 50), st.integers(0, 10**6), st.integers(1, 20))
def test_the_lot_rule_rises_with_more_reports_and_never_below_its_minimum(wr, wd, br, bd, more):
    rise = rules.lot_rise(window_reports=wr, window_doses=wd, baseline_reports=br, baseline_doses=bd)
    if wr < catalogue.cluster_rules()["lot_rule"]["min_reports"]:
        assert not rise
    if rise:
        assert rules.lot_rise(window_reports=wr + more, window_doses=wd, baseline_reports=br, baseline_doses=bd)


def test_the_lot_rule_examples():
    # Three fevers among 200 doses, none before: a marked rise.
    assert rules.lot_rise(window_reports=3, window_doses=200, baseline_reports=0, baseline_doses=0)
    # Three among 100,000 doses: at the floor rate, no rise.
    assert not rules.lot_rise(window_reports=3, window_doses=100_000, baseline_reports=0, baseline_doses=0)
    # The same rate as before: no rise; double: a rise.
    assert not rules.lot_rise(window_reports=10, window_doses=1000, baseline_reports=40, baseline_doses=4000)
    assert rules.lot_rise(window_reports=20, window_doses=1000, baseline_reports=40, baseline_doses=4000)
