"""The staff endpoints of /api/v1 as an outside tool calls them: the contract's names, the
error shape, and nothing written by a refusal."""

from __future__ import annotations

import json

import pytest

from vaxops.staff.models import Deployment, Readiness, ReadinessException, RosterEntry, Staff
from vaxops.staff.tests.helpers import complete_items, make_crew, make_session


def put(client, path, body, *, raw=None):
    return client.client.put("/api/v1" + path, data=raw if raw is not None else json.dumps(body),
                             content_type="application/json", **client._headers())


@pytest.fixture
def crew(world):
    return make_crew(world)


@pytest.fixture
def manager(api, world):
    return api(world.tokens["site_manager"])


@pytest.fixture
def command(api, world):
    return api(world.tokens["county_command"])


def test_add_and_list_staff(manager, crew):
    r = manager.post("/staff", {"name": "新护士", "role": "nurse", "unit": "KD-HOSP", "phone": "13912345678"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["name"], body["role"], body["unit"], body["hospital_level"]) == ("新护士", "nurse", "KD-HOSP", 2)
    listed = manager.get("/staff", role="vaccinator").json()
    assert [s["name"] for s in listed["items"]] == ["王接种"]
    assert listed["items"][0]["qualifications"][0] | {"kind_name": None, "product_name": None} == {
        "kind": "vaccination_training", "kind_name": None, "product": "BIBP", "product_name": None,
        "valid_until": "2021-12-31"}
    names = {s["name"] for s in manager.get("/staff").json()["items"]}
    assert "孙医生" not in names and "周医生" not in names  # Luding and prefecture staff: not in the county


@pytest.mark.parametrize(("body", "code"), [
    ({"name": "x", "role": "surgeon", "unit": "KD-HOSP"}, "unknown_staff_role"),
    ({"name": "", "role": "nurse", "unit": "KD-HOSP"}, "invalid_staff_name"),
    ({"name": "x", "role": "nurse", "unit": "LD-HOSP"}, "unit_not_found"),
    ({"name": "x", "role": "nurse"}, "invalid_request"),
])
def test_bad_staff_are_refused(manager, crew, body, code):
    before = Staff.objects.count()
    r = manager.post("/staff", body)
    assert r.status_code in (404, 422) and r.json()["code"] == code
    assert Staff.objects.count() == before


def test_staff_api_refuses_roles_without_the_permission(api, world, crew):
    r = api(world.tokens["vaccinator"]).post("/staff", {"name": "x", "role": "nurse", "unit": "KD-HOSP"})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    assert api(world.tokens["grid_worker"]).get("/staff").status_code == 403
    assert api(None).get("/staff").status_code == 401


def test_roster_readiness_and_the_checklist(manager, world, crew):
    s = make_session(world)
    r = put(manager, f"/sessions/{s.pk}/roster", {"staff": [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk],
                                                   "planned_staff": 4})
    assert r.status_code == 200, r.content
    assert r.json()["planned_staff"] == 4 and r.json()["staff_hours"] == 18.0
    r = put(manager, f"/sessions/{s.pk}/readiness", {"items": {"cold_chain_reading": 9}})
    assert r.status_code == 200
    body = r.json()
    assert body["complete"] is False and "cold_chain_reading" in body["missing"]
    assert body["reasons"]["cold_chain_reading"]["reason"] == "reading_out_of_range"
    r = put(manager, f"/sessions/{s.pk}/readiness", {"items": complete_items()})
    assert r.json() == {"complete": True, "missing": [], "reasons": {}}
    got = manager.get(f"/sessions/{s.pk}/readiness").json()
    assert got["complete"] is True and got["recorded_by"] == "site_manager" and got["exception"] is None
    assert [i["code"] for i in got["items"]][0] == "doctor_level2" and all(i["ok"] for i in got["items"])


@pytest.mark.parametrize(("body", "code"), [
    ({"items": {"cold_chain_reading": "warm"}}, "invalid_readiness_value"),
    ({"items": {"cold_chain_reading": 100}}, "invalid_readiness_value"),
    ({"items": {"helicopter": 1}}, "unknown_readiness_item"),
    ({"items": {"vaccinators_trained": True}}, "readiness_item_computed"),
    ({"items": [1]}, "invalid_request"),
    ({}, "invalid_request"),
])
def test_bad_readiness_values_are_422_with_a_stable_code(manager, world, crew, body, code):
    s = make_session(world)
    r = put(manager, f"/sessions/{s.pk}/readiness", body)
    assert r.status_code == 422 and r.json()["code"] == code, r.content
    assert not Readiness.objects.exists()


def test_readiness_message_names_the_item_in_the_language(api, world, crew):
    s = make_session(world)
    r = put(api(world.tokens["site_manager"], "zh-hans"), f"/sessions/{s.pk}/readiness",
            {"items": {"observation_seats": "many"}})
    assert "留观座位" in r.json()["message"]
    r = put(api(world.tokens["site_manager"], "en"), f"/sessions/{s.pk}/readiness",
            {"items": {"observation_seats": "many"}})
    assert "observation seats" in r.json()["message"]


def test_unknown_or_foreign_sessions_are_not_found(api, world, crew):
    out = make_session(world, "LD-MASS")
    manager = api(world.tokens["site_manager"])
    for r in (put(manager, f"/sessions/{out.pk}/readiness", {"items": {}}), manager.get(f"/sessions/{out.pk}/readiness"),
              put(manager, "/sessions/999999/roster", {"staff": []})):
        assert r.status_code == 404 and r.json()["code"] == "session_not_found"


def test_roster_outside_the_county_without_deployment_is_422(manager, world, crew):
    s = make_session(world)
    r = put(manager, f"/sessions/{s.pk}/roster", {"staff": [crew.staff["ld_doctor"].pk]})
    assert r.status_code == 422 and r.json()["code"] == "staff_not_deployed"
    assert "孙医生" in r.json()["message"]
    assert not RosterEntry.objects.exists()


def test_deployments_seen_by_the_receiving_county(api, world, crew):
    pc = api(world.tokens["prefecture_command"])
    r = pc.post("/deployments", {"staff": [crew.staff["mch_doctor"].pk, crew.staff["ld_doctor"].pk],
                                 "to_division": "513301", "starts_on": "2021-05-10", "ends_on": "2021-05-20",
                                 "reason": "州妇幼保健院支援康定"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["count"] == 2 and body["to_division"] == "513301"
    kd = api(world.tokens["county_command"]).get("/deployments").json()
    assert kd["count"] == 1 and {s["name"] for s in kd["items"][0]["staff"]} == {"周医生", "孙医生"}
    assert api(world.tokens["county_command_ld"]).get("/deployments").json()["count"] == 0
    assert api(world.tokens["county_command"]).get("/deployments", on="2021-05-21").json()["count"] == 0
    # the receiving county sees the deployed staff in its list
    names = {s["name"] for s in api(world.tokens["county_command"]).get("/staff").json()["items"]}
    assert {"周医生", "孙医生"} <= names


@pytest.mark.parametrize(("body", "code"), [
    ({"staff": []}, "invalid_request"),
    ({"ends_on": "2021-05-01"}, "deployment_dates_invalid"),
    ({"to_division": "513300"}, "deployment_target_too_coarse"),
    ({"reason": ""}, "deployment_reason_required"),
    ({"starts_on": "tomorrow"}, "invalid_request"),
])
def test_bad_deployments_are_refused(api, world, crew, body, code):
    full = {"staff": [crew.staff["ld_doctor"].pk], "to_division": "513301", "starts_on": "2021-05-10",
            "ends_on": "2021-05-20", "reason": "支援", **body}
    r = api(world.tokens["prefecture_command"]).post("/deployments", full)
    assert r.status_code == 422 and r.json()["code"] == code, r.content
    assert not Deployment.objects.exists()


def test_exception_only_by_the_county_command(api, world, crew):
    s = make_session(world)
    r = api(world.tokens["site_manager"]).post(f"/sessions/{s.pk}/readiness/exception", {"reason": "x"})
    assert r.status_code == 403
    r = api(world.tokens["county_command"]).post(f"/sessions/{s.pk}/readiness/exception",
                                                 {"reason": "救护车 10 分钟内到达"})
    assert r.status_code == 201 and r.json()["missing"][0] == "doctor_level2"
    got = api(world.tokens["site_manager"]).get(f"/sessions/{s.pk}/readiness").json()
    assert got["exception"]["reason"] == "救护车 10 分钟内到达"
    r = api(world.tokens["county_command"]).post(f"/sessions/{s.pk}/readiness/exception", {"reason": "again"})
    assert r.status_code == 409 and r.json()["code"] == "readiness_exception_exists"
    assert ReadinessException.objects.count() == 1


def test_qualification_endpoint(manager, crew):
    r = manager.post(f"/staff/{crew.staff['doctor'].pk}/qualifications",
                     {"kind": "emergency_resuscitation", "valid_until": "2022-05-01"})
    assert r.status_code == 201 and r.json()["qualifications"][0]["kind"] == "emergency_resuscitation"
    r = manager.post(f"/staff/{crew.staff['doctor'].pk}/qualifications",
                     {"kind": "vaccination_training", "valid_until": "2022-05-01"})
    assert r.status_code == 422 and r.json()["code"] == "qualification_product_required"
