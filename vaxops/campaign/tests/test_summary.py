"""Summaries answer two questions — where doses were given, how many residents are vaccinated —
on two clocks (administered by T, recorded by T), and every breakdown adds up."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import Api, card_in_hand, make_person
from vaxops.access.services import create_user
from vaxops.campaign.services import METRICS, RECORDED, RESIDENCE_METRICS, rebuild_counters, summary
from vaxops.regions.models import Division, Level
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

AT = dt.datetime.fromisoformat("2021-06-01T19:00:00+08:00")


def give(world, person, at: str, *, site="KD-MASS", user="site_manager", product="BIBP", lot="B2021001"):
    card_in_hand(world, user, person)
    dose, _ = record_dose(
        client_uuid=uuid.uuid4(), person_id=person.pk, product_code=product, lot_number=lot, site_code=site,
        administered_at=dt.datetime.fromisoformat(at), acting_user=world.users[user], source="api",
    )
    # Entered at the desk as it was given (the test runs years later; it is not a late entry).
    DoseRecord.objects.filter(pk=dose.pk).update(recorded_at=dose.administered_at)
    return dose


@pytest.fixture
def travellers(world):
    """A: lives in Lucheng township, vaccinated at the county's gymnasium (a county-level site);
    B: lives in Luding, vaccinated at the Lucheng health centre; C: registered only at Kangding
    county level, vaccinated in Luding."""
    a = make_person(world, seq=501, name="甲", division="513301001")
    b = make_person(world, seq=502, name="乙", county="513322", division="513322")
    c = make_person(world, seq=503, name="丙", division="513301")
    world.users["vaccinator_thc"], _ = create_user(username="vaccinator_thc", role="vaccinator", scope="KD-THC",
                                                   source="cli")
    give(world, a, "2021-05-10T10:00:00+08:00")
    give(world, b, "2021-05-10T11:00:00+08:00", site="KD-THC", user="vaccinator_thc")
    give(world, c, "2021-06-01T09:00:00+08:00", site="LD-MASS", user="vaccinator_ld")
    return world


def child(figures, code):
    return next(c for c in figures["children"] if c["code"] == code)


def assert_adds_up(figures):
    rows = [*figures["children"], figures["unassigned"]]
    for name in METRICS:
        assert sum(r[name] for r in rows) == figures[name], name
    for name in RESIDENCE_METRICS:
        assert sum(r["residence"][name] for r in rows) == figures["residence"][name], name
    assert sum(r["population_18_plus"] for r in rows) == figures["population_18_plus"]


def test_coverage_counts_residents_where_they_live_and_doses_where_they_were_given(travellers):
    w = travellers
    prefecture = summary(w.divisions["513300"], AT)
    kangding, luding = child(prefecture, "513301"), child(prefecture, "513322")
    # Where doses were given: A and B in Kangding, C in Luding.
    assert (kangding["doses_total"], luding["doses_total"]) == (2, 1)
    # Whose residents: A and C are Kangding's, B is Luding's.
    assert (kangding["residence"]["first_dose_people"], luding["residence"]["first_dose_people"]) == (2, 1)
    assert kangding["residence"]["population_18_plus"] == 1300
    assert kangding["residence"]["first_dose_coverage_18_plus"] == round(2 / 1300, 4)
    assert_adds_up(prefecture)


def test_county_level_sites_and_county_level_residents_are_the_not_assigned_row(travellers):
    county = summary(travellers.divisions["513301"], AT)
    lucheng = child(county, "513301001")
    # By site: B at the Lucheng health centre; A at the county's gymnasium is in no township.
    assert lucheng["doses_total"] == 1 and county["unassigned"]["doses_total"] == 1
    # By residence: A lives in Lucheng; C is registered only at county level.
    assert lucheng["residence"]["first_dose_people"] == 1
    assert county["unassigned"]["residence"]["first_dose_people"] == 1
    assert county["unassigned"]["code"] == "" and county["unassigned"]["name"]
    assert county["residence"]["first_dose_people"] == 2 and county["doses_total"] == 2
    assert_adds_up(county)


def test_a_division_without_children_is_all_not_assigned(travellers):
    township = summary(travellers.divisions["513301001"], AT)
    assert township["children"] == []
    assert township["unassigned"]["doses_total"] == township["doses_total"] == 1
    assert township["unassigned"]["residence"]["first_dose_people"] == 1
    assert_adds_up(township)


def test_the_day_of_at_and_whole_days_give_the_same_figures(travellers):
    w = travellers
    # C's dose is on the day of AT (read from dose rows); the next day it is in the counters.
    same_day = summary(w.divisions["513300"], AT)
    next_day = summary(w.divisions["513300"], AT + dt.timedelta(days=1))
    for a, b in [(same_day, next_day), (child(same_day, "513301"), child(next_day, "513301"))]:
        assert {k: a[k] for k in METRICS} == {k: b[k] for k in METRICS}
        assert a["residence"] == b["residence"]
    before = summary(w.divisions["513301"], dt.datetime.fromisoformat("2021-06-01T08:59:00+08:00"))
    assert before["residence"]["first_dose_people"] == 1  # C not yet


def test_a_dose_without_residence_counts_as_not_assigned_in_its_county(travellers):
    w = travellers
    DoseRecord.objects.filter(person__name="甲").update(residence_division=None)
    rebuild_counters()
    county = summary(w.divisions["513301"], AT)
    assert child(county, "513301001")["residence"]["first_dose_people"] == 0
    assert county["unassigned"]["residence"]["first_dose_people"] == 2
    assert_adds_up(county)
    # On the day of AT (dose rows, not counters) it lands in the same place.
    same_day = summary(w.divisions["513301"], dt.datetime.fromisoformat("2021-05-10T19:00:00+08:00"))
    assert same_day["unassigned"]["residence"]["first_dose_people"] == 1
    assert_adds_up(same_day)


def late(world, at: str, recorded: str, *, retrospective=False, name="丁", seq=504):
    person = make_person(world, seq=seq, name=name, division="513301001")
    dose = give(world, person, at)
    DoseRecord.objects.filter(pk=dose.pk).update(
        recorded_at=dt.datetime.fromisoformat(recorded), retrospective=retrospective
    )
    return dose


def test_late_entries_are_counted_as_administered_and_left_out_as_recorded(travellers):
    w = travellers
    # Entered two hours after the report moment (an ordinary entry), and a retrospective entry
    # of May made on 3 June; and a retrospective entry made before the moment (not late).
    late(w, "2021-06-01T18:00:00+08:00", "2021-06-01T21:00:00+08:00")
    late(w, "2021-05-20T10:00:00+08:00", "2021-06-03T09:00:00+08:00", retrospective=True, name="戊", seq=505)
    late(w, "2021-05-21T10:00:00+08:00", "2021-05-30T09:00:00+08:00", retrospective=True, name="己", seq=506)
    prefecture = w.divisions["513300"]
    administered = summary(prefecture, AT)
    recorded = summary(prefecture, AT, view=RECORDED)
    assert administered["view"] == "administered" and recorded["view"] == "recorded"
    assert administered["late_entries"] == recorded["late_entries"] == 2
    assert administered["doses_total"] == 6 and recorded["doses_total"] == 4
    assert child(recorded, "513301")["residence"]["first_dose_people"] == 3
    assert child(administered, "513301")["residence"]["first_dose_people"] == 5
    assert_adds_up(recorded)
    assert_adds_up(summary(w.divisions["513301"], AT, view=RECORDED))
    # Once everything was entered, the two views agree again.
    after = dt.datetime.fromisoformat("2021-06-04T00:00:00+08:00")
    assert summary(prefecture, after, view=RECORDED)["doses_total"] == summary(prefecture, after)["doses_total"]
    assert summary(prefecture, after)["late_entries"] == 0


def test_a_dose_recorded_by_at_but_stamped_just_after_it_counts_as_recorded(travellers):
    late(travellers, "2021-06-01T19:03:00+08:00", "2021-06-01T18:59:00+08:00")
    prefecture = travellers.divisions["513300"]
    assert summary(prefecture, AT)["doses_total"] == 3
    assert summary(prefecture, AT, view=RECORDED)["doses_total"] == 4


def test_summary_reads_a_fixed_number_of_queries_whatever_the_children(travellers):
    prefecture = travellers.divisions["513300"]
    with CaptureQueriesContext(connection) as baseline:
        summary(prefecture, AT, view=RECORDED)
    for n in range(8):
        Division.objects.create(code=f"5133{40 + n}", level=Level.COUNTY, parent=prefecture, name_zh=f"合成{n}县")
    prefecture = Division.objects.get(pk=prefecture.pk)
    with CaptureQueriesContext(connection) as more:
        figures = summary(prefecture, AT, view=RECORDED)
    assert len(figures["children"]) == 10
    assert len(more.captured_queries) == len(baseline.captured_queries)


def test_api_summary_has_residence_unassigned_late_entries_and_view(travellers, client):
    w = travellers
    late(w, "2021-06-01T18:00:00+08:00", "2021-06-01T21:00:00+08:00")
    api = Api(client, w.tokens["county_command"])
    body = api.get("/stats/summary", division="513301", at="2021-06-01T19:00:00+08:00").json()
    assert body["view"] == "administered" and body["late_entries"] == 1
    assert body["doses_total"] == 3  # existing fields keep their meaning: by site
    assert body["residence"] == {
        "first_dose_people": 3, "second_dose_people": 0, "completed_series_people": 0, "booster_people": 0,
        "population_18_plus": 1300, "first_dose_coverage_18_plus": round(3 / 1300, 4),
    }
    assert body["unassigned"]["doses_total"] == 2 and body["unassigned"]["residence"]["first_dose_people"] == 1
    assert body["children"][0]["residence"]["first_dose_people"] == 2
    recorded = api.get("/stats/summary", division="513301", at="2021-06-01T19:00:00+08:00", view="recorded").json()
    assert recorded["view"] == "recorded" and recorded["doses_total"] == 2
    assert api.get("/stats/summary", view="published").status_code == 422
