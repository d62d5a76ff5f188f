"""Inputs that used to crash the server: every one is a 4xx with a stable code, nothing written.

The rules are general (the request guard, the schema types), so each is tried on several
operations: a path, a query and a body.
"""

from __future__ import annotations

import json

import pytest

from conftest import dose_body
from vaxops.core.models import AuditEvent
from vaxops.registry.idnumber import make_id_number
from vaxops.registry.models import Person
from vaxops.vaccination.models import DoseRecord

BIG = 2**70


def rows() -> tuple[int, int, int]:
    return Person.objects.count(), DoseRecord.objects.count(), AuditEvent.objects.count()


def assert_refused(response, before, statuses=(400, 404, 413, 415, 422)):
    assert response.status_code in statuses, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["code"] and response.json()["message"]
    assert rows() == before


@pytest.fixture
def vaccinator(api, world):
    return api(world.tokens["vaccinator"])


def person_body(**extra):
    import datetime as dt

    return {"id_number": make_id_number("513301", dt.date(1990, 1, 1), 123), "name": "卓玛",
            "division_code": "513301001", **extra}


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-10:00",
                                "9999-12-31T23:59:59+08:00", "1900-06-01T00:00:00+08:00",
                                "1899-12-31T23:59:59Z"])
def test_a_summary_far_in_the_past_or_future_is_refused_not_a_crash(api, world, at):
    before = rows()
    r = api(world.tokens["prefecture_command"]).get("/stats/summary", division="513300", at=at)
    assert_refused(r, before)
    assert r.json()["code"] == "invalid_request"


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-10:00",
                                "1900-06-01T00:00:00+08:00"])
def test_a_dose_far_in_the_past_or_future_is_refused_not_a_crash(vaccinator, person, at):
    before = rows()
    assert_refused(vaccinator.post("/doses", dose_body(person.pk, at=at)), before)


@pytest.mark.parametrize("depth", [50, 5000, 100_000])
def test_deeply_nested_json_is_refused(vaccinator, world, depth):
    before = rows()
    body = ('{"name": ' + "[" * depth + "]" * depth + "}").encode()
    r = vaccinator.post("/people", raw=body)
    assert_refused(r, before)
    assert r.json()["code"] == "json_too_deep"


def test_deeply_nested_lists_in_a_field_are_refused(vaccinator, person):
    before = rows()
    r = vaccinator.post("/doses", raw=json.dumps(dose_body(person.pk)).replace('"BIBP"', "[" * 3000 + "]" * 3000)
                        .encode())
    assert_refused(r, before)


@pytest.mark.parametrize("field", ["name", "id_number", "phone", "division_code"])
def test_a_lone_surrogate_in_a_string_is_refused(vaccinator, world, field):
    before = rows()
    raw = json.dumps(person_body(**{field: "x"})).replace('"x"', '"\\ud800"').encode()
    r = vaccinator.post("/people", raw=raw)
    assert_refused(r, before)
    assert r.json()["code"] == "invalid_characters"
    assert r.json()["detail"]["field"] == field


def test_a_lone_surrogate_in_a_nested_string_is_refused(vaccinator, world):
    before = rows()
    raw = json.dumps(person_body(priority_groups=["x"])).replace('"x"', '"\\udfff"').encode()
    assert_refused(vaccinator.post("/people", raw=raw), before)


@pytest.mark.parametrize("field", ["name", "phone", "division_code", "id_number"])
def test_a_nul_byte_in_a_body_string_is_refused(vaccinator, world, field):
    before = rows()
    r = vaccinator.post("/people", person_body(**{field: "ab\x00c"}))
    assert_refused(r, before)
    assert r.json()["code"] == "invalid_characters"


def test_a_nul_byte_in_a_dose_string_is_refused(vaccinator, person):
    before = rows()
    assert_refused(vaccinator.post("/doses", dose_body(person.pk, lot="B2021\x00001")), before)
    assert_refused(vaccinator.post("/doses", dose_body(person.pk, override_reason="why\x00")), before)


@pytest.mark.parametrize(("path", "params"), [
    ("/people", {"name": "张\x00三"}),
    ("/people", {"phone": "138\x0000000000"}),
    ("/people", {"id_number": "513301\x00"}),
    ("/sites", {"division": "5133\x0001"}),
    ("/lots", {"product": "BI\x00BP"}),
    ("/stats/summary", {"division": "513300\x00"}),
])
def test_a_nul_byte_in_a_query_parameter_is_refused(api, world, path, params):
    before = rows()
    r = api(world.tokens["county_command"]).get(path, **params)
    assert_refused(r, before)
    assert r.json()["code"] == "invalid_characters"


def test_a_nul_byte_in_the_path_is_not_found(api, world):
    r = api(world.tokens["county_command"]).get("/people/1%00")
    assert r.status_code in (404, 422) and r.json()["code"]


@pytest.mark.parametrize("path", [f"/people/{BIG}", f"/people/{BIG}/eligibility?product=BIBP",
                                  f"/people/-{BIG}", f"/people/{2**63}"])
def test_an_id_beyond_64_bits_in_a_path_is_not_found(api, world, path):
    before = rows()
    r = api(world.tokens["county_command"]).get(path)
    assert_refused(r, before, statuses=(404, 422))


def test_voiding_a_dose_id_beyond_64_bits_is_not_found(api, world):
    before = rows()
    r = api(world.tokens["site_manager"]).post(f"/doses/{BIG}/void", {"reason": "wrong person"})
    assert_refused(r, before, statuses=(404, 422))


def test_an_integer_beyond_64_bits_in_a_body_is_refused(vaccinator, person):
    before = rows()
    r = vaccinator.post("/doses", dose_body(BIG))
    assert_refused(r, before)
    assert r.json()["code"] == "number_out_of_range"
    r = vaccinator.post("/doses", dose_body(person.pk, dose_number=-BIG))
    assert_refused(r, before)


def test_an_integer_beyond_64_bits_in_a_query_is_refused(api, world):
    before = rows()
    r = api(world.tokens["county_command"]).get("/people", limit=str(BIG))
    assert_refused(r, before)
