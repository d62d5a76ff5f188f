"""The cold-chain API: temperatures (JSON and logger files), the log, excursions and their
review; the access matrix of each endpoint and the bad input of issue 8 §10."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.supply.models import Excursion, StockBalance, Store, TemperatureReading

T0 = dt.datetime(2021, 5, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def iso(hours: float) -> str:
    return (T0 + dt.timedelta(hours=hours)).isoformat()


WARM = {"readings": [{"at": iso(h), "celsius": 9.0} for h in range(11)] + [{"at": iso(11), "celsius": 5}],
        "source": "logger"}


def warm(api, world, store="KD-MASS", role="site_manager"):
    r = api(world.tokens[role]).post(f"/stores/{store}/temperatures", WARM)
    assert r.status_code == 200, r.content
    return r.json()


def test_a_warm_logger_upload_opens_an_excursion_and_holds_the_store(api, world):
    body = warm(api, world)
    assert body["accepted"] == 12 and body["duplicates"] == 0 and body["on_hold"] is True
    [e] = body["excursions"]
    assert e["rule"] == "fridge_heat"
    assert e["started_at"] == "2021-05-10T08:00:00+08:00" and e["ended_at"] == "2021-05-10T19:00:00+08:00"
    assert body["warnings"][0]["minutes_above"] == 660
    stock = api(world.tokens["site_manager"]).get("/stores/KD-MASS/temperatures", **{"from": "2021-05-10",
                                                                                      "to": "2021-05-11"}).json()
    assert stock["count"] == 12 and stock["on_hold"] is True and stock["from"] == "2021-05-10"
    assert [x["rule"] for x in stock["excursions"]] == ["fridge_heat"]
    assert stock["missing"][0] == {"day": "2021-05-10", "morning": True, "afternoon": True, "too_close": False}


def test_the_same_upload_twice_counts_duplicates(api, world):
    warm(api, world)
    body = warm(api, world)
    assert (body["accepted"], body["duplicates"], body["excursions"]) == (0, 12, [])
    assert len(body["open_excursions"]) == 1


def test_a_logger_file_is_read_at_any_interval(api, world):
    csv = "timestamp,celsius\n2021-05-10 08:00,4.5\n2021-05-10 08:07,4.6\n2021/05/10 09:30,-1.0\n2021-05-10T10:31:00+08:00,3\n"
    r = api(world.tokens["supply_officer"]).post("/stores/KD-CDC/temperatures.csv", raw=csv.encode(),
                                                 content_type="text/csv")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["accepted"] == 4
    assert [e["rule"] for e in body["excursions"]] == ["fridge_freeze"]
    assert TemperatureReading.objects.filter(store__code="KD-CDC", source="logger").count() == 4


def test_a_logger_file_with_bad_rows_names_every_row_and_writes_nothing(api, world):
    csv = ("timestamp,celsius\n2021-05-10 08:00,4.5\nyesterday,4\n2021-05-10 09:00,-61\n"
           "2021-05-10 10:00,warm\n2099-01-01 08:00,5\n")
    r = api(world.tokens["supply_officer"], "zh-hans").post("/stores/KD-CDC/temperatures.csv", raw=csv.encode(),
                                                            content_type="text/csv")
    assert r.status_code == 422
    body = r.json()
    assert body["code"] == "temperature_file_invalid" and body["detail"]["count"] == 4
    assert [(x["row"], x["code"]) for x in body["detail"]["rows"]] == [
        (3, "invalid_datetime"), (4, "temperature_out_of_range"), (5, "temperature_out_of_range"),
        (6, "occurred_in_future")]
    assert all(x["message"] for x in body["detail"]["rows"])
    assert not TemperatureReading.objects.exists()


def test_a_logger_file_needs_its_header(api, world):
    r = api(world.tokens["supply_officer"]).post("/stores/KD-CDC/temperatures.csv", raw=b"time,temp\n",
                                                 content_type="text/csv")
    assert (r.status_code, r.json()["code"]) == (422, "temperature_file_header")


@pytest.mark.parametrize(("celsius", "at", "code"), [
    (-61, iso(0), "temperature_out_of_range"),
    (61, iso(0), "temperature_out_of_range"),
    (5, "2099-05-10T08:00:00+08:00", "occurred_in_future"),
    (5, "2021-05-10T08:00:00", "invalid_datetime"),
])
def test_bad_readings_are_refused_and_nothing_is_written(api, world, celsius, at, code):
    r = api(world.tokens["site_manager"]).post("/stores/KD-MASS/temperatures",
                                               {"readings": [{"at": iso(-1), "celsius": 5}, {"at": at, "celsius": celsius}]})
    assert (r.status_code, r.json()["code"]) == (422, code), r.content
    assert not TemperatureReading.objects.exists()


def test_an_unknown_store_is_not_found(api, world):
    r = api(world.tokens["site_manager"]).post("/stores/NOPE/temperatures", {"readings": [{"at": iso(0), "celsius": 5}]})
    assert (r.status_code, r.json()["code"]) == (404, "store_not_found")


def test_open_excursions_list_with_hours_open(api, world):
    warm(api, world)
    body = api(world.tokens["supervisor"]).get("/excursions", status="open").json()
    [item] = body["items"]
    assert item["store"] == "KD-MASS" and item["rule"] == "fridge_heat" and item["hours_open"] >= 0
    assert item["ended_at"] == "2021-05-10T19:00:00+08:00"
    assert api(world.tokens["supervisor_ld"]).get("/excursions").json()["count"] == 0


def test_review_discard_writes_off_the_store_and_a_second_review_is_closed(api, world):
    [e] = warm(api, world)["excursions"]
    r = api(world.tokens["supervisor"]).post(f"/excursions/{e['id']}/review", {"decision": "discard",
                                                                               "note": "VVM stage 3"})
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "discarded" and body["on_hold"] is False and body["doses_discarded"] == 5 * 10_000
    assert not StockBalance.objects.filter(store__code="KD-MASS", on_hand__gt=0).exists()
    again = api(world.tokens["supervisor"]).post(f"/excursions/{e['id']}/review", {"decision": "release",
                                                                                   "note": "x"})
    assert (again.status_code, again.json()["code"]) == (409, "excursion_closed")


def test_review_release_after_a_vvm_check(api, world):
    [e] = warm(api, world)["excursions"]
    r = api(world.tokens["supervisor"]).post(f"/excursions/{e['id']}/review", {
        "decision": "release", "note": "VVM stage 1 on every lot", "vvm_checked": True})
    assert r.json() | {"id": 0} == {"id": 0, "status": "released", "store": "KD-MASS", "on_hold": False,
                                    "vvm_checked": True, "doses_discarded": 0}
    assert not Store.objects.get(code="KD-MASS").on_hold


@pytest.mark.parametrize(("body", "code"), [
    ({"decision": "keep", "note": "x"}, "invalid_decision"),
    ({"decision": "release", "note": ""}, "review_note_required"),
])
def test_review_bad_input(api, world, body, code):
    [e] = warm(api, world)["excursions"]
    r = api(world.tokens["supervisor"]).post(f"/excursions/{e['id']}/review", body)
    assert (r.status_code, r.json()["code"]) == (422, code)
    assert Excursion.objects.get(pk=e["id"]).status == "open"


# -- access matrix ---------------------------------------------------------------------------

READING = {"readings": [{"at": "2021-05-10T08:00:00+08:00", "celsius": 5}]}


@pytest.mark.parametrize(("role", "store", "status"), [
    ("site_manager", "KD-MASS", 200), ("supply_officer", "KD-CDC", 200), ("supply_officer", "KD-MASS", 200),
    ("admin", "AB-CDC", 200),
    ("site_manager", "KD-THC", 404), ("site_manager", "LD-MASS", 404), ("supply_officer", "LD-CDC", 404),
    ("supply_officer_ld", "KD-CDC", 404),
    ("vaccinator", "KD-MASS", 403), ("supervisor", "KD-CDC", 403), ("county_command", "KD-CDC", 403),
    (None, "KD-MASS", 401),
])
def test_who_may_record_temperatures(api, world, role, store, status):
    client = api(world.tokens[role] if role else None)
    r = client.post(f"/stores/{store}/temperatures", READING)
    assert r.status_code == status, r.content
    csv = client.post(f"/stores/{store}/temperatures.csv", raw=b"timestamp,celsius\n2021-05-11 08:00,5\n",
                      content_type="text/csv")
    assert csv.status_code == status, csv.content


@pytest.mark.parametrize(("role", "store", "status"), [
    ("vaccinator", "KD-MASS", 200), ("supervisor", "KD-CDC", 200), ("county_command", "KD-MASS", 200),
    ("vaccinator", "KD-THC", 404), ("supply_officer_ld", "KD-CDC", 404), ("grid_worker", "KD-MASS", 403),
    (None, "KD-MASS", 401),
])
def test_who_may_read_the_temperature_log(api, world, role, store, status):
    r = api(world.tokens[role] if role else None).get(f"/stores/{store}/temperatures")
    assert r.status_code == status, r.content


@pytest.mark.parametrize(("role", "status", "count"), [
    ("supervisor", 200, 1), ("supply_officer", 200, 1), ("county_command", 200, 1), ("prefecture_command", 200, 1),
    ("site_manager", 200, 1), ("supervisor_ld", 200, 0), ("supply_officer_ld", 200, 0),
    ("vaccinator", 403, None), ("grid_worker", 403, None), (None, 401, None),
])
def test_who_sees_open_excursions(api, world, role, status, count):
    warm(api, world)
    r = api(world.tokens[role] if role else None).get("/excursions")
    assert r.status_code == status
    if count is not None:
        assert r.json()["count"] == count


@pytest.mark.parametrize(("role", "status"), [
    ("supervisor", 200), ("supervisor_ld", 404), ("supply_officer", 403), ("county_command", 403),
    ("site_manager", 403), (None, 401),
])
def test_who_may_review_an_excursion(api, world, role, status):
    [e] = warm(api, world)["excursions"]
    r = api(world.tokens[role] if role else None).post(f"/excursions/{e['id']}/review",
                                                      {"decision": "release", "note": "checked"})
    assert r.status_code == status, r.content
    assert Store.objects.get(code="KD-MASS").on_hold is (status != 200)


def test_an_unknown_excursion_is_not_found(api, world):
    r = api(world.tokens["supervisor"]).post("/excursions/999999/review", {"decision": "release", "note": "x"})
    assert (r.status_code, r.json()["code"]) == (404, "excursion_not_found")
