"""Every role × every cold-chain endpoint × in-area (Kangding, store KD-MASS) / out-of-area
(another prefecture, store AB-FIX) / anonymous. Out of area is "not found" (404), a role that
may not act at all gets 403, and a refusal writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import ROLES
from vaxops.supply import coldchain
from vaxops.supply.models import Excursion, TemperatureReading

RECORD = {"site_manager", "supply_officer", "admin"}
VIEW_LOG = set(ROLES) - {"grid_worker", "township_organiser"}
VIEW_EXCURSIONS = {"supply_officer", "supervisor", "county_command", "prefecture_command", "site_manager", "admin"}
REVIEW = {"supervisor"}
STORE = {"in": "KD-MASS", "out": "AB-FIX"}
ENDPOINTS = ["record", "record_csv", "log", "excursions", "review"]
T0 = dt.datetime(2021, 5, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def expected(role: str, endpoint: str, area: str) -> int:
    allowed = {"record": RECORD, "record_csv": RECORD, "log": VIEW_LOG, "excursions": VIEW_EXCURSIONS,
               "review": REVIEW}[endpoint]
    if role not in allowed:
        return 403
    if endpoint == "excursions":
        return 200  # a list: out-of-area rows are simply not in it
    return 200 if area == "in" or role == "admin" else 404


@pytest.fixture
def excursions(world):
    """An open excursion in each area (the admin opens the out-of-area one)."""
    warm = [(T0 + dt.timedelta(hours=h), 9.0) for h in range(11)] + [(T0 + dt.timedelta(hours=11), 5.0)]
    found = {}
    for area, user in (("in", "site_manager"), ("out", "admin")):
        _, [found[area]] = coldchain.record_temperatures(store_code=STORE[area], readings=warm, kind="logger",
                                                         acting_user=world.users[user], source="api")
    return found


def call(client, endpoint: str, area: str, excursions):
    store = STORE[area]
    if endpoint == "record":
        return client.post(f"/stores/{store}/temperatures",
                           {"readings": [{"at": "2021-05-12T08:00:00+08:00", "celsius": 5}]})
    if endpoint == "record_csv":
        return client.post(f"/stores/{store}/temperatures.csv", raw=b"timestamp,celsius\n2021-05-12 14:00,5\n",
                           content_type="text/csv")
    if endpoint == "log":
        return client.get(f"/stores/{store}/temperatures", **{"from": "2021-05-10", "to": "2021-05-11"})
    if endpoint == "excursions":
        return client.get("/excursions", status="open")
    if endpoint == "review":
        return client.post(f"/excursions/{excursions[area].pk}/review", {"decision": "release", "note": "checked"})
    raise AssertionError(endpoint)


@pytest.mark.parametrize("area", ["in", "out"])
@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_role_endpoint_area(api, world, excursions, role, endpoint, area):
    readings_before = TemperatureReading.objects.count()
    r = call(api(world.tokens[role]), endpoint, area, excursions)
    assert r.status_code == expected(role, endpoint, area), (r.status_code, r.content[:300])
    if r.status_code >= 400:
        assert r.json()["code"] in {"permission_denied", "store_not_found", "excursion_not_found"}
        assert TemperatureReading.objects.count() == readings_before
        assert Excursion.objects.filter(status="open").count() == 2
    if endpoint == "excursions" and r.status_code == 200:
        stores = {item["store"] for item in r.json()["items"]}
        assert stores == ({"KD-MASS", "AB-FIX"} if role == "admin" else {"KD-MASS"})


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_anonymous_gets_401_everywhere(api, world, excursions, endpoint):
    r = call(api(None), endpoint, "in", excursions)
    assert r.status_code == 401 and r.json()["code"] == "not_authenticated"
    assert Excursion.objects.filter(status="open").count() == 2
