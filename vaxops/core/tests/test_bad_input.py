"""Bad input: a stable code, a message in the request's language, nothing written."""

from __future__ import annotations

import pytest

from conftest import dose_body
from vaxops.core.models import AuditEvent
from vaxops.registry.models import Person
from vaxops.vaccination.models import DoseRecord


def nothing_written():
    return not DoseRecord.objects.exists() and not Person.objects.exists() and not AuditEvent.objects.filter(
        action__in=["dose.record", "person.register"]
    ).exists()


def test_malformed_json_is_refused(api, world):
    r = api(world.tokens["vaccinator"]).post("/doses", raw=b'{"client_uuid": ')
    assert r.status_code == 400 and r.json()["code"] == "malformed_json"
    assert nothing_written()


def test_wrong_content_type_is_refused(api, world):
    r = api(world.tokens["vaccinator"]).post("/people", raw=b"id_number=1", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 415 and r.json()["code"] == "unsupported_media_type"
    assert nothing_written()


def test_oversize_body_is_refused(api, world):
    r = api(world.tokens["vaccinator"]).post("/people", {"id_number": "1", "name": "x" * 300_000})
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"
    assert nothing_written()


def test_missing_fields_are_named(api, world):
    r = api(world.tokens["vaccinator"]).post("/doses", {"person_id": 1})
    assert r.status_code == 422 and r.json()["code"] == "invalid_request"
    missing = {e["loc"][-1] for e in r.json()["detail"]["errors"]}
    assert {"client_uuid", "product", "lot_number", "site_code", "administered_at"} <= missing


def test_unknown_division_is_not_found(api, world):
    r = api(world.tokens["prefecture_command"]).get("/stats/summary", division="519999")
    assert r.status_code == 404 and r.json()["code"] == "division_not_found"


@pytest.mark.parametrize(
    ("language", "fragment"),
    [("en", "Lot B2021Q01 is quarantined"), ("zh-hans", "B2021Q01")],
)
def test_error_message_follows_accept_language(api, world, person, language, fragment):
    r = api(world.tokens["vaccinator"], language=language).post("/doses", dose_body(person.pk, lot="B2021Q01"))
    assert r.json()["code"] == "lot_quarantined"
    assert fragment in r.json()["message"]
    if language == "zh-hans":
        assert "隔离" in r.json()["message"] or "检疫" in r.json()["message"]


def test_no_token_is_401(api, world):
    r = api(None).get("/people", id_number="11010519491231002X")
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"


def test_wrong_token_is_401(api, world):
    r = api("vx_not-a-real-token").get("/sites")
    assert r.status_code == 401
