"""The stock endpoints of /api/v1 as an outside tool calls them: the contract's fields, 201 on
creation and 200 on replay, the error shape, and nothing written by a refusal."""

from __future__ import annotations

import uuid

import pytest

from conftest import SITE_STOCK
from vaxops.supply.models import Transfer
from vaxops.supply.tests.helpers import counts, on_hand


def receipt(**kw):
    return {"client_uuid": str(uuid.uuid4()), "store": "KD-CDC", "product": "BIBP", "lot_number": "G2021888",
            "expiry_date": "2030-06-30", "manufacturer": "北京生物", "release_certificate": "SJ20210502",
            "doses": 1200, "arrival_temperature_c": 5.5, **kw}


def transfer(**kw):
    return {"client_uuid": str(uuid.uuid4()), "from_store": "KD-CDC", "to_store": "KD-MASS",
            "lines": [{"lot_number": "B2021001", "doses": 400}], **kw}


@pytest.fixture
def officer(api, world):
    return api(world.tokens["supply_officer"])


@pytest.fixture
def manager(api, world):
    return api(world.tokens["site_manager"])


def test_stores_of_a_division_list_the_contract_fields(officer):
    r = officer.get("/stores", division="513301")
    assert r.status_code == 200
    body = r.json()
    by_code = {s["code"]: s for s in body["items"]}
    assert body["count"] == len(body["items"]) and set(by_code) == {"KD-CDC", "KD-MASS", "KD-THC"}
    assert by_code["KD-MASS"] | {"name": None, "level_name": None} == {
        "code": "KD-MASS", "name": None, "level": "site", "level_name": None, "division_code": "513301",
        "site_code": "KD-MASS", "parent_code": "KD-CDC", "equipment_class": "refrigerator", "on_hold": False}


def test_a_stores_stock_shows_each_lot_with_its_balance(manager):
    r = manager.get("/stores/KD-MASS/stock")
    assert r.status_code == 200
    body = r.json()
    assert body["store"] == "KD-MASS" and body["on_hold"] is False
    item = next(i for i in body["items"] if i["lot_number"] == "B2021001")
    assert (item["product"], item["on_hand"], item["status"], item["expiry_date"]) == (
        "BIBP", SITE_STOCK, "released", "2030-01-01")
    assert next(i for i in body["items"] if i["lot_number"] == "B2020999")["expired"] is True


def test_a_receipt_is_201_then_200_on_replay(officer, world):
    body = receipt()
    first = officer.post("/receipts", body)
    assert first.status_code == 201, first.content
    assert first.json()["doses"] == 1200 and first.json()["on_hold"] is False
    again = officer.post("/receipts", body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    other = officer.post("/receipts", {**body, "doses": 1300})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"


def test_a_receipt_without_temperature_is_on_hold_until_the_record_comes(officer):
    r = officer.post("/receipts", receipt(arrival_temperature_c=None))
    assert r.status_code == 201 and r.json()["on_hold"] is True
    stock = officer.get("/stores/KD-CDC/stock").json()
    assert next(i for i in stock["items"] if i["lot_number"] == "G2021888")["on_hold"] is True
    t = officer.post(f"/receipts/{r.json()['id']}/temperature", {"arrival_temperature_c": 3.0})
    assert t.status_code == 200 and t.json()["on_hold"] is True  # the receipt as recorded
    stock = officer.get("/stores/KD-CDC/stock").json()
    assert next(i for i in stock["items"] if i["lot_number"] == "G2021888")["on_hold"] is False
    again = officer.post(f"/receipts/{r.json()['id']}/temperature", {"arrival_temperature_c": 3.0})
    assert again.status_code == 409 and again.json()["code"] == "nothing_on_hold"


def test_dispatch_and_proof_of_delivery_through_the_api(officer, manager, world):
    r = officer.post("/transfers", transfer())
    assert r.status_code == 201, r.content
    sent = r.json()
    assert sent["status"] == "in_transit" and sent["lines"][0]["doses"] == 400
    waiting = manager.get("/transfers", store="KD-MASS", status="in_transit").json()
    assert [t["id"] for t in waiting["items"]] == [sent["id"]]
    assert manager.get("/stores/KD-MASS/stock").json()["in_transit_in"] == 400
    got = manager.post(f"/transfers/{sent['id']}/receive", {
        "lines": [{"lot_number": "B2021001", "accepted": 390, "rejected": 10, "rejection_reason": "broken"}],
        "arrival_temperature_c": 4.2, "delivered_by": "王师傅"})
    assert got.status_code == 200, got.content
    assert got.json()["status"] == "received"
    assert on_hand(world, "KD-MASS") == SITE_STOCK + 390 and on_hand(world, "KD-CDC") == SITE_STOCK - 390


def test_a_transfer_replay_returns_the_first(officer):
    body = transfer()
    first = officer.post("/transfers", body)
    again = officer.post("/transfers", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"] and Transfer.objects.count() == 1


def test_adjustment_and_count_through_the_api(manager, world):
    r = manager.post("/adjustments", {"client_uuid": str(uuid.uuid4()), "store": "KD-MASS",
                                      "lot_number": "B2021001", "doses": 5, "reason": "broken"})
    assert r.status_code == 201, r.content
    assert r.json()["lines"] == [{"lot_number": "B2021001", "quantity": -5, "reason": "broken"}]
    c = manager.post("/stores/KD-MASS/counts", {"counts": [{"lot_number": "B2021001", "doses": SITE_STOCK - 6},
                                                           {"lot_number": "C2021001", "doses": SITE_STOCK}]})
    assert c.status_code == 201, c.content
    lines = {x["lot_number"]: x for x in c.json()["lines"]}
    assert lines["B2021001"]["difference"] == -1 and lines["C2021001"]["difference"] == 0
    same = manager.post("/stores/KD-MASS/counts", {"counts": [{"lot_number": "B2021001", "doses": SITE_STOCK - 6}]})
    assert same.status_code == 200 and same.json()["event_id"] is None


REFUSALS = [
    ("/receipts", receipt(doses=0), 422, "invalid_quantity"),
    ("/receipts", receipt(doses=-5), 422, "invalid_quantity"),
    ("/receipts", receipt(lot_number="C2021001"), 422, "lot_wrong_product"),
    ("/receipts", receipt(expiry_date="2021-01-01"), 422, "lot_expired_on_receipt"),
    ("/receipts", receipt(arrival_temperature_c=12), 422, "arrival_temperature_out_of_range"),
    ("/receipts", receipt(arrival_temperature_c=-61), 422, "temperature_out_of_range"),
    ("/receipts", receipt(arrival_temperature_c=75), 422, "temperature_out_of_range"),
    ("/receipts", receipt(store="NOPE"), 404, "store_not_found"),
    ("/receipts", receipt(store="AB-CDC"), 404, "store_not_found"),
    ("/receipts", receipt(product="NOPE"), 404, "product_not_found"),
    ("/transfers", transfer(to_store="LD-MASS"), 422, "invalid_route"),
    ("/transfers", transfer(to_store="NOPE"), 404, "store_not_found"),
    ("/transfers", transfer(lines=[{"lot_number": "B2021001", "doses": SITE_STOCK + 1}]), 409, "insufficient_stock"),
    ("/transfers", transfer(lines=[{"lot_number": "B2021001", "doses": 0}]), 422, "invalid_quantity"),
    ("/transfers", transfer(lines=[{"lot_number": "B2021001", "doses": 1}, {"lot_number": "B2021001", "doses": 2}]),
     422, "duplicate_lot_in_event"),
    ("/transfers", transfer(lines=[{"lot_number": "B2021Q01", "doses": 1}]), 422, "lot_quarantined"),
    ("/transfers", transfer(lines=[{"lot_number": "B2021R01", "doses": 1}]), 422, "lot_recalled"),
    ("/transfers", transfer(lines=[{"lot_number": "B2020999", "doses": 1}]), 422, "lot_expired"),
    ("/transfers", transfer(lines=[{"lot_number": "NOPE", "doses": 1}]), 422, "lot_not_found"),
    ("/adjustments", {"client_uuid": str(uuid.uuid4()), "store": "KD-MASS", "lot_number": "B2021001", "doses": 1,
                      "reason": "stolen-by-aliens"}, 422, "unknown_reason"),
    ("/adjustments", {"client_uuid": str(uuid.uuid4()), "store": "KD-MASS", "lot_number": "B2021001", "doses": 1,
                      "reason": "transfer_in"}, 422, "reason_not_allowed"),
    ("/adjustments", {"client_uuid": str(uuid.uuid4()), "store": "KD-MASS", "lot_number": "B2021001",
                      "doses": SITE_STOCK + 1, "reason": "lost"}, 409, "insufficient_stock"),
    ("/adjustments", {"client_uuid": str(uuid.uuid4()), "store": "KD-MASS", "lot_number": "B2021001", "doses": -1,
                      "reason": "found"}, 422, "invalid_quantity"),
    ("/stores/KD-MASS/counts", {"counts": [{"lot_number": "B2021001", "doses": -1}]}, 422, "invalid_quantity"),
    ("/stores/KD-MASS/counts", {"counts": [{"lot_number": "B2021001", "doses": 1},
                                           {"lot_number": "B2021001", "doses": 2}]}, 422, "duplicate_lot_in_event"),
]


@pytest.mark.parametrize(("path", "body", "status", "code"), REFUSALS,
                         ids=[f"{p}-{c}-{i}" for i, (p, _b, _s, c) in enumerate(REFUSALS)])
def test_bad_input_is_refused_with_its_code_and_writes_nothing(api, world, path, body, status, code):
    client = api(world.tokens["admin" if path.startswith("/stores") or path == "/adjustments" else "supply_officer"],
                 language="zh-hans")
    before = counts()
    r = client.post(path, body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.content
    assert r.json()["message"] and set(r.json()) == {"code", "message", "detail"}
    assert counts() == before
    if code == "insufficient_stock":
        assert r.json()["detail"]["on_hand"] == SITE_STOCK and r.json()["detail"]["requested"] == SITE_STOCK + 1


@pytest.fixture
def in_transit(officer):
    return officer.post("/transfers", transfer()).json()["id"]


@pytest.mark.parametrize(("lines", "celsius", "status", "code"), [
    ([{"lot_number": "B2021001", "accepted": 300, "rejected": 0}], 5, 422, "delivery_does_not_add_up"),
    ([], 5, 422, "delivery_does_not_add_up"),
    ([{"lot_number": "B2021001", "accepted": 300, "rejected": 100}], 5, 422, "rejection_reason_required"),
    ([{"lot_number": "B2021001", "accepted": 300, "rejected": 100, "rejection_reason": "nope"}], 5, 422,
     "unknown_reason"),
    ([{"lot_number": "B2021001", "accepted": 300, "rejected": 100, "rejection_reason": "found"}], 5, 422,
     "reason_not_allowed"),
    ([{"lot_number": "B2021001", "accepted": 400, "rejected": 0}, {"lot_number": "C2021001", "accepted": 1,
                                                                    "rejected": 0}], 5, 422, "lot_not_in_transfer"),
    ([{"lot_number": "B2021001", "accepted": 400, "rejected": 0}], 61, 422, "temperature_out_of_range"),
    ([{"lot_number": "B2021001", "accepted": 500, "rejected": -100}], 5, 422, "invalid_quantity"),
])
def test_proof_of_delivery_that_does_not_add_up_is_refused(manager, in_transit, lines, celsius, status, code):
    before = counts()
    r = manager.post(f"/transfers/{in_transit}/receive", {"lines": lines, "arrival_temperature_c": celsius})
    assert (r.status_code, r.json()["code"]) == (status, code), r.content
    assert counts() == before and Transfer.objects.get(pk=in_transit).status == "in_transit"


def test_receiving_an_unknown_transfer_is_not_found(manager):
    r = manager.post("/transfers/999999/receive", {"lines": []})
    assert (r.status_code, r.json()["code"]) == (404, "transfer_not_found")
