"""The lot endpoints: /api/v1/lots/{lot_number}/quarantine | recall | release | trace | recipients."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import make_person
from vaxops.catalog.models import Product
from vaxops.core.models import AuditEvent
from vaxops.supply import ledger
from vaxops.supply.ledger import Line
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination.services import record_dose

AT = dt.datetime(2021, 5, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
TRACE_FIELDS = {"lot_number", "product", "received", "in_transit", "on_hand", "administered", "wasted", "stores",
                "recipients_by_county"}


def give(world, person, site="KD-MASS", user="vaccinator"):
    return record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                       site_code=site, administered_at=AT, acting_user=world.users[user], source="web")[0]


@pytest.fixture
def ngawa_lot(world):
    """A lot only ever stocked in Ngawa: outside every Garze user's area."""
    lot = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number="B2021AB1",
                             expiry_date=dt.date(2030, 1, 1))
    ledger.post([Line(world.stores["AB-FIX"].pk, lot.pk, 100, "receipt")], reason="receipt", user=None,
                occurred_at=AT)
    return lot


def test_supervisor_recalls_and_the_dose_api_refuses_the_lot(world, api, person):
    r = api(world.tokens["supervisor"]).post("/lots/B2021001/recall", {"reason": "Manufacturer's notice 2021-17"})
    assert r.status_code == 200
    body = r.json()
    assert (body["status"], body["status_reason"], body["product"]) == ("recalled", "Manufacturer's notice 2021-17",
                                                                       "BIBP")
    dose = {"client_uuid": str(uuid.uuid4()), "person_id": person.pk, "product": "BIBP", "lot_number": "B2021001",
            "site_code": "KD-MASS", "administered_at": "2021-05-10T10:00:00+08:00"}
    r = api(world.tokens["vaccinator"]).post("/doses", dose)
    assert (r.status_code, r.json()["code"]) == (422, "lot_recalled")
    r = api(world.tokens["supervisor"]).post("/lots/B2021001/release", {"reason": "Retested, conforms"})
    assert r.json()["status"] == "released"
    assert api(world.tokens["vaccinator"]).post("/doses", dose).status_code == 201


def test_quarantine_answers_in_chinese_too(world, api):
    r = api(world.tokens["supervisor"], language="zh-hans").post("/lots/B2021Q01/quarantine", {"reason": "再次"})
    assert (r.status_code, r.json()["code"]) == (409, "lot_status_unchanged")
    assert r.json()["message"] == "批号 B2021Q01 已经是已隔离状态。" or "B2021Q01" in r.json()["message"]
    assert "quarantined" not in r.json()["message"]


@pytest.mark.parametrize("body,code", [
    ({"reason": ""}, "lot_status_reason_required"),
    ({"reason": "   "}, "lot_status_reason_required"),
    ({"reason": "x" * 501}, "lot_status_reason_too_long"),
    ({}, "invalid_request"),
    ({"reason": 5}, "invalid_request"),
])
def test_bad_status_change_is_refused_and_writes_nothing(world, api, body, code):
    r = api(world.tokens["supervisor"]).post("/lots/B2021001/quarantine", body)
    assert (r.status_code, r.json()["code"]) == (422, code)
    assert Lot.objects.get(lot_number="B2021001").status == LotStatus.RELEASED
    assert not AuditEvent.objects.filter(object_type="supply.lot").exists()


def test_unknown_lot_is_404(world, api):
    r = api(world.tokens["supervisor"]).post("/lots/NOPE/recall", {"reason": "x"})
    assert (r.status_code, r.json()["code"]) == (404, "lot_not_found")
    r = api(world.tokens["supervisor"]).get("/lots/NOPE/trace")
    assert (r.status_code, r.json()["code"]) == (404, "lot_not_found")


def test_shared_lot_number_needs_the_product(world, api):
    Lot.objects.create(product=Product.objects.get(code="CORONAVAC"), lot_number="B2021001",
                       expiry_date=dt.date(2030, 1, 1))
    r = api(world.tokens["supervisor"]).post("/lots/B2021001/recall", {"reason": "notice"})
    assert (r.status_code, r.json()["code"]) == (422, "lot_product_required")
    assert r.json()["detail"]["shared_products"] == ["BIBP", "CORONAVAC"]
    r = api(world.tokens["supervisor"]).post("/lots/B2021001/recall", {"reason": "notice", "product": "BIBP"})
    assert (r.status_code, r.json()["status"]) == (200, "recalled")
    assert api(world.tokens["supervisor"]).get("/lots/B2021001/trace", product="BIBP").json()["product"] == "BIBP"


def test_trace_has_the_contract_fields_and_counts_the_doses(world, api):
    for seq in (1, 2, 3):
        give(world, make_person(world, seq=seq))
    r = api(world.tokens["supervisor"]).get("/lots/B2021001/trace")
    assert r.status_code == 200
    body = r.json()
    assert set(body) >= TRACE_FIELDS
    assert body["dose_records"] == 3
    assert body["recipients_by_county"] == [{"county_code": "513301", "county_name": "Kangding", "count": 3}]
    for s in body["stores"]:
        assert {"code", "on_hand", "administered", "wasted"} <= set(s)
    assert {s["code"] for s in body["stores"]} == {"KD-CDC", "KD-MASS", "KD-THC"}


def test_recipients_json_is_paged_masked_and_audited(world, api):
    for seq in (1, 2, 3):
        give(world, make_person(world, seq=seq, name="张小三", phone=f"1380013800{seq}"))
    r = api(world.tokens["supervisor"]).get("/lots/B2021001/recipients", limit=2)
    assert r.status_code == 200
    body = r.json()
    assert (body["count"], len(body["items"]), body["limit"], body["offset"]) == (3, 2, 2, 0)
    item = body["items"][0]
    assert item["name"] == "张*三" and item["phone"].startswith("138001380")
    assert "*" * 8 in item["id_number"] and len(item["id_number"]) == 18
    assert item["site_code"] == "KD-MASS" and item["administered_on"] == "2021-05-10"
    assert AuditEvent.objects.filter(action="lot.recipients_view").count() == 1
    assert api(world.tokens["supervisor"]).get("/lots/B2021001/recipients", limit=0).status_code == 422
    assert api(world.tokens["supervisor"]).get("/lots/B2021001/recipients", limit=501).status_code == 422


def test_recipients_csv_downloads_and_is_audited(world, api):
    give(world, make_person(world, seq=5, phone="13800138005"))
    r = api(world.tokens["county_command"]).get("/lots/B2021001/recipients.csv")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("text/csv")
    assert "attachment" in r["Content-Disposition"]
    text = r.content.decode("utf-8-sig")
    assert "13800138005" in text and text.splitlines()[0].startswith("Name,ID number,Phone")
    [event] = AuditEvent.objects.filter(action="lot.recipients_export")
    assert event.actor == world.users["county_command"] and event.after["rows"] == 1


# --- the access matrix -------------------------------------------------------------------------

WRITES = ["/lots/B2021001/quarantine", "/lots/B2021001/recall"]
READS = {
    "/lots/B2021001/trace": ["supervisor", "supply_officer", "county_command", "prefecture_command", "admin"],
    "/lots/B2021001/recipients": ["supervisor", "county_command", "prefecture_command"],
    "/lots/B2021001/recipients.csv": ["supervisor", "county_command", "prefecture_command"],
}


@pytest.mark.parametrize("path", WRITES + ["/lots/B2021001/release"])
def test_anonymous_status_change_is_401(world, api, path):
    r = api().post(path, {"reason": "x"})
    assert (r.status_code, r.json()["code"]) == (401, "not_authenticated")


@pytest.mark.parametrize("role", ["vaccinator", "site_manager", "supply_officer", "county_command",
                                  "prefecture_command", "grid_worker", "admin"])
@pytest.mark.parametrize("path", WRITES)
def test_status_change_by_another_role_is_403(world, api, path, role):
    r = api(world.tokens[role]).post(path, {"reason": "x"})
    assert (r.status_code, r.json()["code"]) == (403, "permission_denied")
    assert Lot.objects.get(lot_number="B2021001").status == LotStatus.RELEASED


def test_any_supervisor_may_stop_any_lot(world, api, ngawa_lot):
    # A lot's status is one fact everywhere: a supervisor who learns of a bad lot stops it
    # before it reaches their area (the lot list shows every lot to every role).
    r = api(world.tokens["supervisor_ld"]).post("/lots/B2021AB1/quarantine", {"reason": "national notice"})
    assert (r.status_code, r.json()["status"]) == (200, "quarantined")


@pytest.mark.parametrize("path", list(READS))
def test_anonymous_read_is_401(world, api, path):
    assert api().get(path).status_code == 401


@pytest.mark.parametrize("path,allowed", list(READS.items()))
def test_read_by_role(world, api, path, allowed):
    give(world, make_person(world, seq=7))
    for role in ["prefecture_command", "county_command", "site_manager", "vaccinator", "grid_worker",
                 "supply_officer", "supervisor", "admin"]:
        r = api(world.tokens[role]).get(path)
        if role in allowed:
            assert r.status_code == 200, (role, r.content[:200])
        else:
            assert (r.status_code, r.json()["code"]) == (403, "permission_denied"), role


@pytest.mark.parametrize("path", ["/lots/B2021AB1/trace", "/lots/B2021AB1/recipients", "/lots/B2021AB1/recipients.csv"])
def test_read_of_a_lot_outside_the_area_is_404(world, api, ngawa_lot, path):
    r = api(world.tokens["supervisor"]).get(path)
    assert (r.status_code, r.json()["code"]) == (404, "lot_not_in_area")
    assert not AuditEvent.objects.filter(action__startswith="lot.recipients").exists()


def test_out_of_area_supervisor_sees_only_their_recipients(world, api):
    give(world, make_person(world, seq=8))
    r = api(world.tokens["supervisor_ld"]).get("/lots/B2021001/recipients")
    assert (r.status_code, r.json()["count"]) == (200, 0)
    body = api(world.tokens["supervisor_ld"]).get("/lots/B2021001/trace").json()
    assert body["recipients_by_county"] == [] and {s["code"] for s in body["stores"]} == {"LD-CDC", "LD-MASS"}
