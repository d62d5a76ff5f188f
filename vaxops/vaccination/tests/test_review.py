"""Supervisors see every override and every retrospective entry of their area: who, when
recorded and given, the person with a masked ID number, site, product by name, the reasons in
words and the written reason; filtered by area and date, a page at a time."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import dose_body, make_person
from vaxops.registry.models import Deferral

pytestmark = pytest.mark.usefixtures("real_retrospective_window")

REASON = "Paper register of the 1 June mobile session."


@pytest.fixture
def entries(api, world):
    """One override and one retrospective entry at KD-MASS (Kangding), one of each at LD-MASS."""
    made = {}
    for site, manager in (("KD-MASS", "site_manager"), ("LD-MASS", "site_manager_ld")):
        county = "513301" if site == "KD-MASS" else "513322"
        late = make_person(world, county=county, seq=501, name="迟录")
        deferred = make_person(world, county=county, seq=503, name="缓种")
        today = dt.date.today()
        Deferral.objects.create(person=deferred, code="acute_illness", since=today - dt.timedelta(days=2),
                                until=today + dt.timedelta(days=5))
        client = api(world.tokens[manager])
        retro = client.post("/doses", dose_body(late.pk, site=site, at="2021-06-01T10:00:00+08:00",
                                                retrospective_reason=REASON))
        now = dt.datetime.now(dt.UTC).isoformat()
        over = client.post("/doses", dose_body(deferred.pk, site=site, at=now,
                                               override_reason="Fever gone; cleared by the site doctor."))
        assert retro.status_code == 201 and over.status_code == 201, (retro.content, over.content)
        made[site] = {"retro": retro.json()["id"], "override": over.json()["id"], "person": deferred}
    return made


def test_supervisor_lists_the_overrides_of_their_area_only(api, world, entries):
    r = api(world.tokens["supervisor"]).get("/doses/overrides")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["count"] == 1 and [x["id"] for x in body["items"]] == [entries["KD-MASS"]["override"]]
    item = body["items"][0]
    person = entries["KD-MASS"]["person"]
    assert item["person"]["id_number_masked"] == person.id_number_masked
    assert person.id_number not in r.content.decode()
    assert item["recorded_by"]["username"] == "site_manager"
    assert item["site"]["code"] == "KD-MASS" and item["product"]["name"] == "COVID-19 vaccine inactivated (Vero) - Beijing Institute"
    assert item["reasons"] == [{"code": "deferred", "label": "deferral in force (cleared by a doctor)"}]
    assert item["override_reason"] == "Fever gone; cleared by the site doctor."
    assert item["recorded_at"].endswith("+08:00") and item["administered_at"].endswith("+08:00")


def test_supervisor_lists_the_retrospective_entries_of_their_area(api, world, entries):
    r = api(world.tokens["supervisor"]).get("/doses/retrospective")
    assert [x["id"] for x in r.json()["items"]] == [entries["KD-MASS"]["retro"]]
    item = r.json()["items"][0]
    assert item["retrospective"] is True and item["retrospective_reason"] == REASON
    assert item["administered_at"].startswith("2021-06-01T10:00:00")


def test_prefecture_sees_both_counties_and_filters_by_division(api, world, entries):
    prefecture = api(world.tokens["prefecture_command"])
    assert prefecture.get("/doses/overrides").json()["count"] == 2
    only_luding = prefecture.get("/doses/overrides", division="513322").json()
    assert [x["id"] for x in only_luding["items"]] == [entries["LD-MASS"]["override"]]


def test_a_division_outside_the_area_is_not_found(api, world, entries):
    r = api(world.tokens["supervisor"]).get("/doses/overrides", division="513322")
    assert r.status_code == 404 and r.json()["code"] == "division_not_found"


def test_the_date_range_is_the_day_recorded(api, world, entries):
    prefecture = api(world.tokens["prefecture_command"])
    today = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()
    assert prefecture.get("/doses/retrospective", date_from=today.isoformat()).json()["count"] == 2
    assert prefecture.get("/doses/retrospective", date_to=(today - dt.timedelta(days=1)).isoformat()).json()["count"] == 0


def test_the_list_is_paginated(api, world, entries):
    prefecture = api(world.tokens["prefecture_command"])
    first = prefecture.get("/doses/overrides", limit=1).json()
    second = prefecture.get("/doses/overrides", limit=1, offset=1).json()
    assert first["count"] == second["count"] == 2
    assert len(first["items"]) == len(second["items"]) == 1
    assert first["items"][0]["id"] != second["items"][0]["id"]
    assert prefecture.get("/doses/overrides", limit=0).json()["code"] == "invalid_request"


@pytest.mark.parametrize("role", ["vaccinator", "site_manager", "grid_worker", "supply_officer"])
def test_site_and_field_roles_do_not_read_the_lists(api, world, role):
    r = api(world.tokens[role]).get("/doses/overrides")
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


@pytest.mark.parametrize("role", ["supervisor", "county_command", "prefecture_command", "admin"])
def test_reviewing_roles_read_the_lists(api, world, role):
    assert api(world.tokens[role]).get("/doses/retrospective").status_code == 200


def test_anonymous_is_not_authenticated(api, world):
    assert api().get("/doses/overrides").status_code == 401


def test_the_openapi_document_describes_the_new_fields_and_lists(api, world):
    doc = api(world.tokens["admin"]).get("/openapi.json").json()
    assert {"/api/v1/doses/overrides", "/api/v1/doses/retrospective"} <= set(doc["paths"])
    dose_in = doc["components"]["schemas"]["DoseIn"]["properties"]
    assert "retrospective_reason" in dose_in and "offset" in dose_in["administered_at"]["description"]
