"""Out-of-area people: reached only by the exact ID number, audited, rate-limited.

Site staff vaccinate travellers (the card in hand), so the exact-ID look-up finds anyone; a bare
numeric id must not: ids can be enumerated, ID numbers cannot.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings

from conftest import dose_body, make_person
from vaxops.access.models import PersonReach
from vaxops.core.models import AuditEvent
from vaxops.registry.api import search_people
from vaxops.registry.idnumber import make_id_number


@pytest.fixture
def traveller(world):
    # Lives in Luding; the Kangding gymnasium's staff serve Kangding.
    return make_person(world, county="513322", seq=457, name="李四", phone="13900000000")


@pytest.fixture
def vaccinator(api, world):
    return api(world.tokens["vaccinator"])


def test_site_staff_cannot_reach_an_out_of_area_person_by_numeric_id(vaccinator, traveller):
    for r in (
        vaccinator.get(f"/people/{traveller.pk}"),
        vaccinator.get(f"/people/{traveller.pk}/eligibility", product="BIBP", on="2021-05-10"),
        vaccinator.post("/doses", dose_body(traveller.pk)),
    ):
        assert r.status_code == 404 and r.json()["code"] == "person_not_found"
        assert "13900000000" not in r.content.decode() and traveller.id_number not in r.content.decode()
    assert not AuditEvent.objects.filter(action="dose.record").exists()


def test_the_card_in_hand_reaches_the_traveller_for_the_day_and_is_audited(vaccinator, world, traveller):
    found = vaccinator.get("/people", id_number=traveller.id_number).json()
    assert found["count"] == 1 and found["items"][0]["id"] == traveller.pk
    assert vaccinator.get(f"/people/{traveller.pk}").status_code == 200
    assert vaccinator.post("/doses", dose_body(traveller.pk)).status_code == 201
    event = AuditEvent.objects.get(action="person.lookup_out_of_area")
    assert event.actor == world.users["vaccinator"] and event.object_id == str(traveller.pk)
    assert event.after == {"person": traveller.pk}  # no name, no number, no phone
    reach = PersonReach.objects.get()
    assert reach.valid_until.astimezone(dt.timezone(dt.timedelta(hours=8))).time() == dt.time(0, 0)


def test_a_reach_belongs_to_the_user_who_held_the_card(vaccinator, api, world, traveller):
    vaccinator.get("/people", id_number=traveller.id_number)
    colleague = api(world.tokens["site_manager"])
    assert colleague.get(f"/people/{traveller.pk}").status_code == 404


def test_a_reach_ends_with_the_working_day(vaccinator, traveller):
    vaccinator.get("/people", id_number=traveller.id_number)
    PersonReach.objects.update(valid_until=PersonReach.objects.get().reached_at)
    assert vaccinator.get(f"/people/{traveller.pk}").status_code == 404


def test_in_area_look_ups_are_not_counted_or_audited(vaccinator, person):
    assert vaccinator.get("/people", id_number=person.id_number).json()["count"] == 1
    assert not AuditEvent.objects.filter(action="person.lookup_out_of_area").exists()
    assert not PersonReach.objects.exists()


@override_settings(VAXOPS_LOOKUP_LIMIT=2)
def test_out_of_area_look_ups_are_rate_limited_per_user(vaccinator, api, world):
    people = [make_person(world, county="513322", seq=400 + n, name="旅客" + "甲乙丙"[n]) for n in range(3)]
    for p in people[:2]:
        assert vaccinator.get("/people", id_number=p.id_number).json()["count"] == 1
    r = vaccinator.get("/people", id_number=people[2].id_number)
    assert r.status_code == 429 and r.json()["code"] == "too_many_requests"
    assert int(r["Retry-After"]) > 0 and r.json()["detail"]["retry_time"] in r.json()["message"]
    assert people[2].name not in r.content.decode()
    assert not PersonReach.objects.filter(person=people[2]).exists()
    # Chinese message states the time too; another user is not affected.
    zh = api(world.tokens["vaccinator"], language="zh-hans").get("/people", id_number=people[2].id_number)
    assert zh.json()["detail"]["retry_time"] in zh.json()["message"] and "后" in zh.json()["message"]
    assert api(world.tokens["site_manager"]).get("/people", id_number=people[2].id_number).json()["count"] == 1


def test_the_web_session_follows_the_same_rule(client, world, traveller):
    client.force_login(world.users["vaccinator"])
    assert client.get(f"/api/v1/people/{traveller.pk}").status_code == 404
    search_people(world.users["vaccinator"], id_number=traveller.id_number, source="web")
    assert client.get(f"/api/v1/people/{traveller.pk}").status_code == 200
    assert AuditEvent.objects.get(action="person.lookup_out_of_area").source == "web"


def test_registering_a_person_registered_elsewhere_reveals_nothing(vaccinator, traveller):
    r = vaccinator.post("/people", {"id_number": traveller.id_number, "name": "李四"})
    assert r.status_code == 409 and r.json()["code"] == "person_registered_elsewhere"
    assert r.json()["detail"] == {} and str(traveller.pk) not in r.content.decode()
    # Then the exact-ID path reaches the traveller.
    assert vaccinator.get("/people", id_number=traveller.id_number).json()["items"][0]["id"] == traveller.pk


def test_a_grid_worker_is_told_only_that_the_person_is_registered_elsewhere(api, world):
    elsewhere = make_person(world, county="513301", division="513301", seq=611)  # county level, not the grid
    r = api(world.tokens["grid_worker"]).post("/people", {"id_number": elsewhere.id_number, "name": "某"})
    assert r.status_code == 409 and r.json() == {**r.json(), "code": "person_registered_elsewhere", "detail": {}}


def test_registering_a_person_of_ones_own_area_again_names_them(api, world):
    number = make_id_number("513301", dt.date(1970, 1, 1), 321)
    county = api(world.tokens["county_command"])
    first = county.post("/people", {"id_number": number, "name": "甲", "division_code": "513301001"}).json()
    r = county.post("/people", {"id_number": number, "name": "甲"})
    assert r.status_code == 409 and r.json()["code"] == "person_exists" and r.json()["detail"]["id"] == first["id"]


@override_settings(VAXOPS_LOOKUP_LIMIT=2)
def test_looking_again_at_a_person_reached_today_is_audited_but_not_counted(vaccinator, world):
    # The desk redraws the card as the vaccine is chosen: the same traveller, again and again.
    again, new = (make_person(world, county="513322", seq=460 + n, name="旅客" + "甲乙"[n]) for n in range(2))
    for _ in range(4):
        assert vaccinator.get("/people", id_number=again.id_number).json()["count"] == 1
    assert AuditEvent.objects.filter(action="person.lookup_out_of_area", object_id=str(again.pk)).count() == 4
    assert vaccinator.get("/people", id_number=new.id_number).json()["count"] == 1
