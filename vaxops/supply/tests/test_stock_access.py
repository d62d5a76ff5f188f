"""Every role × every stock endpoint × in-area / out-of-area, and anonymous.

In-area stores sit in Kangding (KD-CDC, the county's cold room; KD-MASS, the site of the site
staff); out-of-area stores in another prefecture (AB-CDC, AB-FIX). Out of area is "not found"
(404), never "forbidden"; a role that may not act at all gets 403; anonymous 401. The roles
per action are those of ``vaxops.access.scope.PERMISSIONS``.
"""

from __future__ import annotations

import uuid

import pytest

from conftest import ROLES
from vaxops.supply.models import Transfer
from vaxops.supply.services import TransferLineIn, dispatch_transfer
from vaxops.supply.tests.helpers import counts

VIEW = set(ROLES) - {"grid_worker", "township_organiser"}
RECEIVE_SHIPMENT = DISPATCH = {"supply_officer", "admin"}
AT_SITE = {"supply_officer", "site_manager", "admin"}  # receive, adjust, count
SITE_ROLES = {"site_manager", "vaccinator"}
SCOPE_DIVISION = {
    "prefecture_command": "513300", "county_command": "513301", "site_manager": "513301",
    "vaccinator": "513301", "grid_worker": "513301001", "supply_officer": "513301",
    "supervisor": "513301", "admin": "513300", "township_organiser": "513301001",
}

# endpoint -> (roles that may act, status when they do)
ENDPOINTS = {
    "stores": (VIEW, 200), "stock": (VIEW, 200), "transfers_list": (VIEW, 200),
    "receipt": (RECEIVE_SHIPMENT, 201), "dispatch": (DISPATCH, 201),
    "receive": (AT_SITE, 200), "adjust": (AT_SITE, 201), "count": (AT_SITE, 201),
}


def expected(role: str, endpoint: str, area: str) -> int:
    roles, ok = ENDPOINTS[endpoint]
    if role not in roles:
        return 403
    return ok if area == "in" or role == "admin" else 404


def in_store(role: str) -> str:
    """A store of the role's area: the site's for site staff, the county's cold room otherwise."""
    return "KD-MASS" if role in SITE_ROLES else "KD-CDC"


def call(client, endpoint, area, role, transfers):
    inside = area == "in"
    if endpoint == "stores":
        return client.get("/stores", division=SCOPE_DIVISION[role] if inside else "513201")
    if endpoint == "stock":
        return client.get(f"/stores/{in_store(role) if inside else 'AB-FIX'}/stock")
    if endpoint == "transfers_list":
        return client.get("/transfers", store=in_store(role) if inside else "AB-FIX")
    if endpoint == "receipt":
        return client.post("/receipts", {
            "client_uuid": str(uuid.uuid4()), "store": "KD-CDC" if inside else "AB-CDC", "product": "BIBP",
            "lot_number": "G2021999", "expiry_date": "2030-01-01", "doses": 100, "arrival_temperature_c": 5})
    if endpoint == "dispatch":
        frm, to = ("KD-CDC", "KD-MASS") if inside else ("AB-CDC", "AB-FIX")
        return client.post("/transfers", {"client_uuid": str(uuid.uuid4()), "from_store": frm, "to_store": to,
                                          "lines": [{"lot_number": "B2021001", "doses": 10}]})
    if endpoint == "receive":
        t = transfers["in" if inside else "out"]
        return client.post(f"/transfers/{t.pk}/receive", {
            "lines": [{"lot_number": "B2021001", "accepted": 10, "rejected": 0}], "arrival_temperature_c": 5})
    if endpoint == "adjust":
        return client.post("/adjustments", {"client_uuid": str(uuid.uuid4()), "store": "KD-MASS" if inside else "AB-FIX",
                                            "lot_number": "B2021001", "doses": 1, "reason": "broken"})
    if endpoint == "count":
        return client.post(f"/stores/{'KD-MASS' if inside else 'AB-FIX'}/counts",
                           {"counts": [{"lot_number": "B2021001", "doses": 9_999}]})
    raise AssertionError(endpoint)


@pytest.fixture
def transfers(world):
    def send(frm, to):
        return dispatch_transfer(client_uuid=uuid.uuid4(), from_store_code=frm, to_store_code=to,
                                 lines=[TransferLineIn("B2021001", 10)], acting_user=None, source="cli")[0]

    return {"in": send("KD-CDC", "KD-MASS"), "out": send("AB-CDC", "AB-FIX")}


CODES_404 = {"store_not_found", "division_not_found", "transfer_not_found"}


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
def test_role_endpoint_area(api, world, transfers, role, endpoint, area):
    before = counts()
    r = call(api(world.tokens[role]), endpoint, area, role, transfers)
    want = expected(role, endpoint, area)
    assert r.status_code == want, (r.status_code, r.content[:300])
    if want == 403:
        assert r.json()["code"] == "permission_denied"
    if want == 404:
        assert r.json()["code"] in CODES_404
    if want >= 400:
        assert counts() == before
        assert Transfer.objects.filter(status="in_transit").count() == 2


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
def test_anonymous_gets_401_everywhere(api, world, transfers, endpoint):
    before = counts()
    r = call(api(None), endpoint, "in", "admin", transfers)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert counts() == before


def test_the_sender_cannot_receive_its_own_transfer_for_the_receiver(api, world, transfers):
    # Luding's supply officer sees nothing of Kangding's transfer; Kangding's site manager at
    # another site does not receive it either.
    r = api(world.tokens["supply_officer_ld"]).post(f"/transfers/{transfers['in'].pk}/receive", {
        "lines": [{"lot_number": "B2021001", "accepted": 10, "rejected": 0}], "arrival_temperature_c": 5})
    assert (r.status_code, r.json()["code"]) == (404, "transfer_not_found")


def test_a_return_to_a_store_outside_the_area_is_received_there_only(api, world):
    # KD-CDC sends back to its parent GZ-CDC (outside Kangding's area): the Kangding officer
    # dispatches it, but only someone at the prefecture store may receive it.
    officer = api(world.tokens["supply_officer"])
    sent = officer.post("/transfers", {"client_uuid": str(uuid.uuid4()), "from_store": "KD-CDC", "to_store": "GZ-CDC",
                                       "lines": [{"lot_number": "B2021001", "doses": 10}]})
    assert sent.status_code == 201
    r = officer.post(f"/transfers/{sent.json()['id']}/receive", {
        "lines": [{"lot_number": "B2021001", "accepted": 10, "rejected": 0}], "arrival_temperature_c": 5})
    assert (r.status_code, r.json()["code"]) == (404, "transfer_not_found")
    assert api(world.tokens["admin"]).post(f"/transfers/{sent.json()['id']}/receive", {
        "lines": [{"lot_number": "B2021001", "accepted": 10, "rejected": 0}],
        "arrival_temperature_c": 5}).status_code == 200
