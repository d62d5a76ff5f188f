"""Device sync through POST /api/v1/doses/batch: every item answered in order, each on its own."""

from __future__ import annotations

import pytest

from conftest import dose_body, make_person
from vaxops.campaign.models import DoseCounter, ResidenceCounter
from vaxops.campaign.services import counter_snapshot
from vaxops.core.models import AuditEvent
from vaxops.vaccination.models import DoseConflict, DoseRecord


def written() -> tuple[int, ...]:
    return tuple(m.objects.count() for m in (DoseRecord, DoseConflict, AuditEvent, DoseCounter, ResidenceCounter))


@pytest.fixture
def people(world):
    return [make_person(world, seq=200 + i, name="卓玛" + "甲乙丙丁戊"[i]) for i in range(5)]


def test_results_come_in_order_and_one_bad_item_rejects_only_itself(api, world, people):
    items = [
        dose_body(people[0].pk),
        {"client_uuid": "not-a-uuid", "person_id": "many", "product": "BIBP"},
        "a string, not an object",
        dose_body(people[1].pk, administered_at="2021-05-10"),
        dose_body(people[2].pk, lot="B2021Q01"),
        dose_body(people[3].pk, site="LD-MASS"),
        dose_body(people[4].pk),
    ]
    r = api(world.tokens["vaccinator"]).post("/doses/batch", {"items": items})
    assert r.status_code == 200, r.content
    results = r.json()["results"]
    assert [x["status"] for x in results] == ["created", "rejected", "rejected", "rejected", "rejected",
                                               "rejected", "created"]
    assert [x["code"] for x in results] == [None, "invalid_request", "invalid_request", "invalid_datetime",
                                             "lot_quarantined", "site_not_found", None]
    assert [x["client_uuid"] for x in results] == [
        items[0]["client_uuid"], None, None, items[3]["client_uuid"], items[4]["client_uuid"],
        items[5]["client_uuid"], items[6]["client_uuid"]]
    assert results[1]["detail"]["field"] in {"client_uuid", "person_id", "lot_number"}
    assert results[1]["detail"]["index"] == 1 and results[2]["detail"]["index"] == 2
    assert results[4]["message"] == "Lot B2021Q01 is quarantined and must not be used."
    assert DoseRecord.objects.filter(pk__in=[results[0]["id"], results[6]["id"]]).count() == 2
    assert DoseRecord.objects.count() == 2 and sum(counter_snapshot().values()) == 2


def test_messages_follow_accept_language(api, world, person):
    r = api(world.tokens["vaccinator"], language="zh-hans").post(
        "/doses/batch", {"items": [dose_body(person.pk, lot="B2021Q01")]})
    message = r.json()["results"][0]["message"]
    assert r.json()["results"][0]["code"] == "lot_quarantined" and "B2021Q01" in message
    assert message != "Lot B2021Q01 is quarantined and must not be used."


def test_the_same_batch_twice_gives_the_same_results_and_writes_nothing(api, world, people):
    existing = api(world.tokens["site_manager"]).post("/doses", dose_body(people[2].pk))
    assert existing.status_code == 201
    items = [dose_body(people[0].pk), dose_body(people[1].pk, lot="B2020999"), dose_body(people[2].pk),
             dose_body(people[3].pk), dose_body(people[0].pk, at="2021-06-10T10:00:00+08:00")]
    device = api(world.tokens["vaccinator"])
    first = device.post("/doses/batch", {"items": items})
    assert first.status_code == 200, first.content
    statuses = [x["status"] for x in first.json()["results"]]
    assert statuses == ["created", "rejected", "rejected", "created", "created"]
    assert first.json()["results"][2]["conflict"] is not None
    before = written()
    again = device.post("/doses/batch", {"items": items})
    assert written() == before
    replayed = [{**x, "status": "created" if x["status"] == "replayed" else x["status"]}
                for x in again.json()["results"]]
    assert [x["status"] for x in again.json()["results"]] == ["replayed", "rejected", "rejected", "replayed",
                                                              "replayed"]
    assert replayed == first.json()["results"]


def test_a_batch_over_the_limit_is_refused_whole_and_writes_nothing(api, world, person):
    before = written()
    items = [dose_body(person.pk) for _ in range(501)]
    r = api(world.tokens["vaccinator"]).post("/doses/batch", {"items": items})
    assert r.status_code == 413 and r.json()["code"] == "batch_too_large"
    assert r.json()["detail"] == {"limit": 500, "count": 501}
    assert written() == before


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"items": []}, 422, "batch_empty"),
    ({"items": {"a": 1}}, 422, "invalid_request"),
    ({}, 422, "invalid_request"),
    ([1, 2], 422, "invalid_request"),
])
def test_a_batch_that_is_no_list_of_items_is_refused(api, world, body, status, code):
    before = written()
    r = api(world.tokens["vaccinator"]).post("/doses/batch", body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.content
    assert written() == before


def test_staff_of_another_site_get_each_item_rejected_and_others_may_not_sync(api, world, people):
    items = [dose_body(p.pk) for p in people[:2]]
    r = api(world.tokens["vaccinator_ld"]).post("/doses/batch", {"items": items})
    assert [x["code"] for x in r.json()["results"]] == ["site_not_found", "site_not_found"]
    for role in ("county_command", "supervisor", "grid_worker"):
        r = api(world.tokens[role]).post("/doses/batch", {"items": items})
        assert (r.status_code, r.json()["code"]) == (403, "permission_denied"), role
    assert api().post("/doses/batch", {"items": items}).status_code == 401
    assert DoseRecord.objects.count() == 0


def test_dose_one_then_dose_two_in_one_batch(api, world, person):
    items = [dose_body(person.pk, at="2021-05-10T10:00:00+08:00"),
             dose_body(person.pk, at="2021-06-10T10:00:00+08:00")]
    r = api(world.tokens["vaccinator"]).post("/doses/batch", {"items": items})
    assert [(x["status"], x["dose_number"]) for x in r.json()["results"]] == [("created", 1), ("created", 2)]
