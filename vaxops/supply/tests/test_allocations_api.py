"""/api/v1/allocations: propose, read, approve, and who may do what where."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.supply.ledger import Line, post
from vaxops.supply.models import Allocation, StockBalance, Transfer


def empty(world, *codes):
    at = dt.datetime(2021, 1, 5, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for code in codes:
        store = world.stores[code]
        lines = [Line(store.pk, b.lot_id, -b.on_hand, "lost")
                 for b in StockBalance.objects.filter(store=store, on_hand__gt=0)]
        post(lines, reason="lost", user=None, occurred_at=at)


@pytest.fixture
def kangding_people(world):
    from conftest import make_person

    return [make_person(world, seq=n) for n in (201, 203, 205, 207)]


def propose(api, world, role="county_command", store="KD-CDC", **body):
    return api(world.tokens.get(role)).post("/allocations", {"from_store": store, "supply": {"BIBP": 10}, **body})


def test_a_proposal_answers_201_with_a_line_per_child_and_product(api, world, kangding_people):
    empty(world, "KD-MASS", "KD-THC")
    r = propose(api, world, supply={"BIBP": 3, "CORONAVAC": 2}, default_capacity=50, horizon_days=7)
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["status"] == "proposed"
    assert sorted((c["store"], c["product"]) for c in body["children"]) == [
        ("KD-MASS", "BIBP"), ("KD-MASS", "CORONAVAC"), ("KD-THC", "BIBP"), ("KD-THC", "CORONAVAC")]
    # Four people of Lucheng still to vaccinate (the health centre's area), capacity 50 each.
    thc = [c for c in body["children"] if c["store"] == "KD-THC"]
    assert sum(c["doses"] for c in thc) == 4
    assert sum(c["doses"] for c in body["children"]) == 4
    for c in body["children"]:
        assert set(c) >= {"store", "product", "doses", "first_doses", "second_doses", "binding", "explanation"}
        assert c["explanation"]["capacity"] == 50
    assert thc[0]["explanation"]["first_dose_demand"] == 4
    assert "4" in thc[0]["explanation_text"]
    got = api(world.tokens["county_command"]).get(f"/allocations/{body['id']}")
    assert got.status_code == 200 and got.json()["children"] == body["children"]


def test_the_prefecture_allocates_to_its_counties(api, world, kangding_people):
    r = propose(api, world, role="prefecture_command", store="GZ-CDC")
    assert r.status_code == 201
    assert sorted({c["store"] for c in r.json()["children"]}) == ["KD-CDC", "LD-CDC"]


@pytest.mark.parametrize("role, store, status, code", [
    (None, "KD-CDC", 401, "not_authenticated"),
    ("vaccinator", "KD-CDC", 403, "permission_denied"),
    ("grid_worker", "KD-CDC", 403, "permission_denied"),
    ("supervisor", "KD-CDC", 403, "permission_denied"),
    ("county_command_ld", "KD-CDC", 404, "store_not_found"),
    ("county_command", "GZ-CDC", 404, "store_not_found"),
    ("supply_officer", "KD-CDC", 201, None),
    ("county_command", "KD-CDC", 201, None),
    ("admin", "AB-CDC", 201, None),
])
def test_who_may_propose_where(api, world, role, store, status, code):
    r = propose(api, world, role=role, store=store)
    assert r.status_code == status, r.content
    if code:
        assert r.json()["code"] == code
        assert not Allocation.objects.exists()


@pytest.mark.parametrize("body, status, code", [
    ({"supply": {"BIBP": 10_001}}, 409, "insufficient_stock"),
    ({"supply": {"WIBP": 1}}, 422, "nothing_to_allocate"),
    ({"supply": {"BIBP": -1}}, 422, "invalid_quantity"),
    ({"supply": {"BIBP": "ten"}}, 422, "invalid_request"),
    ({"horizon_days": 0}, 422, "allocation_invalid_horizon"),
    ({"from_store": "NOWHERE"}, 404, "store_not_found"),
    ({"from_store": "KD-MASS"}, 422, "store_has_no_children"),
])
def test_bad_proposals_are_refused_with_a_stable_code(api, world, body, status, code):
    r = api(world.tokens["county_command"]).post("/allocations", {"from_store": "KD-CDC", "supply": {"BIBP": 10},
                                                                  **body})
    assert r.status_code == status, r.content
    assert r.json()["code"] == code
    assert r.json()["message"]
    assert not Allocation.objects.exists()


@pytest.fixture
def proposal(api, world, kangding_people):
    empty(world, "KD-THC")
    r = propose(api, world, supply={"BIBP": 4}, default_capacity=20)
    assert r.status_code == 201
    return r.json()["id"]


@pytest.mark.parametrize("role, status, code", [
    (None, 401, "not_authenticated"),
    ("vaccinator", 403, "permission_denied"),
    ("county_command_ld", 404, "allocation_not_found"),
    ("supply_officer_ld", 404, "allocation_not_found"),
    ("supply_officer", 200, None),
    ("prefecture_command", 200, None),
])
def test_who_may_read_an_allocation(api, world, proposal, role, status, code):
    r = api(world.tokens.get(role)).get(f"/allocations/{proposal}")
    assert r.status_code == status
    if code:
        assert r.json()["code"] == code


@pytest.mark.parametrize("role, status, code", [
    (None, 401, "not_authenticated"),
    ("supply_officer", 403, "permission_denied"),
    ("site_manager", 403, "permission_denied"),
    ("county_command_ld", 404, "allocation_not_found"),
])
def test_who_may_not_approve(api, world, proposal, role, status, code):
    r = api(world.tokens.get(role)).post(f"/allocations/{proposal}/approve")
    assert r.status_code == status
    assert r.json()["code"] == code
    assert not Transfer.objects.exists()


@pytest.mark.parametrize("role", ["county_command", "prefecture_command"])
def test_the_command_approves_once(api, world, proposal, role):
    r = api(world.tokens[role]).post(f"/allocations/{proposal}/approve")
    assert r.status_code == 200, r.content
    ids = r.json()["transfers"]
    assert len(ids) == 1
    transfer = Transfer.objects.get(pk=ids[0])
    assert (transfer.to_store.code, transfer.status) == ("KD-THC", "in_transit")
    again = api(world.tokens[role]).post(f"/allocations/{proposal}/approve")
    assert again.status_code == 409
    assert again.json()["code"] == "allocation_not_proposed"
    assert api(world.tokens[role]).get(f"/allocations/{proposal}").json()["transfers"] == ids


def test_an_unknown_allocation_is_not_found(api, world):
    r = api(world.tokens["county_command"]).get("/allocations/999999")
    assert r.status_code == 404 and r.json()["code"] == "allocation_not_found"
    r = api(world.tokens["county_command"]).post("/allocations/999999/approve")
    assert r.status_code == 404 and r.json()["code"] == "allocation_not_found"
