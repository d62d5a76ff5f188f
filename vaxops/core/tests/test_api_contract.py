"""The API answers in one shape everywhere: JSON errors, campaign-time datetimes, no caching,
and an OpenAPI document that declares every status and code."""

from __future__ import annotations

import pytest

from conftest import dose_body
from vaxops.core.errors import ERRORS


@pytest.mark.parametrize("path", ["/api/v1/nothing-here", "/api/v1/people/1/nothing", "/api/v2/people",
                                  "/api/", "/api/v1/stats/nothing"])
def test_unknown_api_paths_answer_json_not_found(client, world, path):
    r = client.get(path, HTTP_AUTHORIZATION=f"Bearer {world.tokens['admin']}", HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 404
    assert r["Content-Type"].startswith("application/json")
    assert r.json()["code"] == "not_found" and r.json()["message"] == "Not found." and "detail" in r.json()


def test_unknown_api_path_message_follows_accept_language(client, db):
    r = client.get("/api/v1/nothing-here", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.json()["code"] == "not_found" and r.json()["message"] != "Not found."


def test_a_wrong_method_answers_json_405_with_allow(api, world):
    r = api(world.tokens["admin"]).client.delete("/api/v1/people", HTTP_AUTHORIZATION=f"Bearer {world.tokens['admin']}")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"
    assert set(r.json()["detail"]["allowed"]) == {"GET", "POST"} and "GET" in r["Allow"]
    r = api(world.tokens["admin"]).get("/doses")
    assert r.status_code == 405 and r.json()["code"] == "method_not_allowed"


def test_pages_outside_the_api_keep_html_errors(client, db):
    r = client.get("/no-such-page/")
    assert r.status_code == 404 and not r["Content-Type"].startswith("application/json")


def test_created_and_voided_doses_carry_the_campaign_offset(api, world, person):
    made = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk, at="2021-05-10T02:00:00Z"))
    assert made.status_code == 201, made.content
    assert made.json()["administered_at"] == "2021-05-10T10:00:00+08:00"
    voided = api(world.tokens["site_manager"]).post(f"/doses/{made.json()['id']}/void", {"reason": "wrong person"})
    assert voided.status_code == 200, voided.content
    assert voided.json()["administered_at"] == "2021-05-10T10:00:00+08:00"


def test_summary_time_carries_the_campaign_offset(api, world):
    r = api(world.tokens["prefecture_command"]).get("/stats/summary", division="513300", at="2021-06-01T11:00:00Z")
    assert r.json()["at"] == "2021-06-01T19:00:00+08:00"


@pytest.mark.parametrize("path", ["/api/v1/people", "/api/v1/sites", "/api/v1/nothing-here", "/api/v1/openapi.json"])
def test_api_answers_are_never_cached(client, world, path):
    r = client.get(path, HTTP_AUTHORIZATION=f"Bearer {world.tokens['county_command']}")
    assert "no-store" in r["Cache-Control"] and "private" in r["Cache-Control"]


def test_refused_api_writes_are_not_cached_either(api, world):
    r = api(world.tokens["vaccinator"]).post("/people", raw=b"{")
    assert r.status_code == 400 and "no-store" in r["Cache-Control"]


@pytest.fixture
def spec(client, db):
    return client.get("/api/v1/openapi.json").json()


def operations(spec):
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            yield path, method, op


def test_every_operation_is_described(spec):
    for path, method, op in operations(spec):
        assert len(op.get("description", "")) > 20, (method, path)


def test_every_operation_declares_its_error_statuses_with_the_error_schema(spec):
    for path, method, op in operations(spec):
        statuses = {int(s) for s in op["responses"]}
        expected = {401, 403, 422}
        if "requestBody" in op:
            expected |= {400, 413, 415}
        if "{" in path:
            expected.add(404)
        assert expected <= statuses, (method, path, statuses)
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ErrorOut"}
                for code in response["x-error-codes"]:
                    assert ERRORS[code][0] == int(status)
                    assert f"`{code}`" in response["description"]


def test_dose_creation_lists_its_refusals(spec):
    op = spec["paths"]["/api/v1/doses"]["post"]
    assert {"lot_expired", "not_eligible"} <= set(op["responses"]["422"]["x-error-codes"])
    assert "dose_already_recorded" in op["responses"]["409"]["x-error-codes"]
    people = spec["paths"]["/api/v1/people"]["post"]
    assert {"unknown_priority_group", "home_division_too_coarse"} <= set(people["responses"]["422"]["x-error-codes"])


def test_every_error_code_is_in_the_document(spec):
    assert set(spec["components"]["schemas"]["ErrorOut"]["properties"]["code"]["enum"]) == set(ERRORS)
    for code in ERRORS:
        assert f"`{code}`" in spec["info"]["description"], code
    assert "+08:00" in spec["info"]["description"]
