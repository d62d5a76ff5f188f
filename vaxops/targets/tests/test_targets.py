"""Targets through the API: set by the level above, progress on a constructed series of doses."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import make_person
from vaxops.core.models import AuditEvent
from vaxops.targets.models import Target
from vaxops.vaccination.services import record_dose

pytestmark = pytest.mark.django_db
T = dt.timezone(dt.timedelta(hours=8))


def dose(world, person, day: dt.date, hour: int = 10):
    record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                site_code="KD-MASS", administered_at=dt.datetime.combine(day, dt.time(hour), tzinfo=T),
                acting_user=world.users["vaccinator"], source="api")


def body(**kw):
    return {"division": "513301", "metric": "first_dose_people", "base": "18+", "value": 4, "due": "2021-06-30",
            "starts": "2021-05-01", **kw}


def test_the_prefecture_sets_a_county_target_and_its_progress_is_ahead_on_a_constructed_series(api, world):
    for i, day in enumerate([dt.date(2021, 5, 20), dt.date(2021, 5, 25), dt.date(2021, 5, 28)]):
        dose(world, make_person(world, seq=200 + i), day)
    r = api(world.tokens["prefecture_command"]).post("/targets", body())
    assert r.status_code == 201, r.content
    assert AuditEvent.objects.filter(action="targets.target.set").count() == 1
    r = api(world.tokens["prefecture_command"]).get("/targets/progress", division="513300",
                                                    at="2021-06-01T19:00:00+08:00")
    assert r.status_code == 200, r.content
    [item] = r.json()["items"]
    assert item["division_code"] == "513301" and item["is_child"] and item["rank"] == 1
    assert (item["target"], item["achieved"], item["percent"]) == (4, 3, 75.0)
    # 31 days and 19 hours of 61: 4 × 31.79 / 61 = 2.08 expected.
    assert (item["expected_by_now"], item["ahead_by"]) == (2, 1)
    assert item["ahead_days"] > 0 and item["status"] == "ahead"
    # One first dose since the end of 25 May, over 6 days 19 hours: the last one in 6.8 days.
    assert item["rate_7d"] == round(1 / (6 + 19 / 24), 2)
    assert item["projected_date"] == "2021-06-08"


def test_a_target_met_before_its_due_day_is_met_ahead_with_the_day_it_was_met(api, world):
    for i in range(4):
        dose(world, make_person(world, seq=300 + i), dt.date(2021, 5, 20 + i))
    assert api(world.tokens["prefecture_command"]).post("/targets", body()).status_code == 201
    [item] = api(world.tokens["county_command"]).get("/targets/progress", division="513301",
                                                     at="2021-06-01T19:00:00+08:00").json()["items"]
    assert item["met"] and item["met_ahead"] and item["status"] == "met_ahead"
    assert item["met_on"] == item["projected_date"] == "2021-05-23"
    assert not item["is_child"]


def test_a_coverage_percent_target_counts_people_of_the_base_population(api, world):
    # Kangding's 18+ population in the world: 1000 + 300; 1% of it is 13 people.
    r = api(world.tokens["prefecture_command"]).post("/targets", body(kind="percent", value=1))
    assert r.status_code == 201, r.content
    [item] = api(world.tokens["prefecture_command"]).get("/targets/progress", division="513301",
                                                         at="2021-06-01T19:00:00+08:00").json()["items"]
    assert item["target"] == 13 and item["achieved"] == 0 and item["projected_date"] is None


def test_setting_the_same_target_again_changes_it_audited(api, world):
    client = api(world.tokens["prefecture_command"])
    assert client.post("/targets", body()).status_code == 201
    r = client.post("/targets", body(value=9))
    assert r.status_code == 200 and not r.json()["created"]
    assert Target.objects.get().value == 9
    event = AuditEvent.objects.filter(action="targets.target.set").latest("pk")
    assert event.before["value"] == "4.00" and event.after["value"] == "9.00"


def test_a_county_may_not_set_its_own_target_only_its_townships(api, world):
    client = api(world.tokens["county_command"])
    r = client.post("/targets", body())
    assert r.status_code == 403 and r.json()["code"] == "target_not_above"
    assert client.post("/targets", body(division="513301001")).status_code == 201


def test_a_target_for_a_division_outside_the_area_is_not_found_and_writes_nothing(api, world):
    r = api(world.tokens["county_command"]).post("/targets", body(division="513322001"))
    assert r.status_code == 404 and r.json()["code"] == "division_not_found"
    assert not Target.objects.exists() and not AuditEvent.objects.filter(action="targets.target.set").exists()


@pytest.mark.parametrize(("change", "code"), [
    ({"metric": "happiness"}, "target_metric_unknown"),
    ({"base": "nobody"}, "target_base_unknown"),
    ({"metric": "key_group_coverage", "base": "18+"}, "target_base_invalid"),
    ({"metric": "doses", "base": "medical_staff"}, "target_base_invalid"),
    ({"value": 0}, "target_value_invalid"),
    ({"value": 2.5}, "target_value_invalid"),
    ({"kind": "percent", "value": 101}, "target_value_invalid"),
    ({"due": "2021-04-01"}, "target_due_invalid"),
    ({"ramp": [["2021-05-10", 0.5], ["2021-05-09", 0.6]]}, "target_ramp_invalid"),
    ({"ramp": [["2021-05-10", 0.5], ["2021-05-20", 0.4]]}, "target_ramp_invalid"),
])
def test_bad_targets_are_refused_with_their_code(api, world, change, code):
    r = api(world.tokens["prefecture_command"]).post("/targets", body(**change))
    assert r.status_code in (403, 422), r.content
    assert r.json()["code"] == code
    assert not Target.objects.exists()


def test_roles_that_do_not_set_targets_are_refused(api, world):
    for role in ("vaccinator", "grid_worker", "supervisor"):
        assert api(world.tokens[role]).post("/targets", body()).json()["code"] == "permission_denied"


def test_a_stated_ramp_changes_what_is_expected(api, world):
    client = api(world.tokens["prefecture_command"])
    client.post("/targets", body(value=100, ramp=[["2021-05-31", 0.1]]))
    [item] = client.get("/targets/progress", division="513301", at="2021-06-01T00:00:00+08:00").json()["items"]
    assert item["expected_by_now"] == 10
