"""The lot pages: /supply/lots/ and /supply/lots/<lot_number>/ (and its CSV)."""

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


def as_user(client, world, role, language="en"):
    client.force_login(world.users[role])
    client.cookies["django_language"] = language
    return client


def give(world, seq, name="张小三", phone="13800138000"):
    person = make_person(world, seq=seq, name=name, phone=phone)
    return record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                       site_code="KD-MASS", administered_at=AT, acting_user=world.users["vaccinator"],
                       source="web")[0]


def test_lot_list_shows_the_lots_with_stock_in_the_area(world, client):
    r = as_user(client, world, "supervisor").get("/supply/lots/")
    assert r.status_code == 200
    html = r.content.decode()
    assert "B2021001" in html and "B2021R01" in html
    # Three Kangding stores hold 10,000 each.
    assert "30,000" in html


def test_lot_list_is_chinese_by_default(world, client):
    client.force_login(world.users["supervisor"])
    html = client.get("/supply/lots/").content.decode()
    assert "批号" in html and "国药北京生物" not in html or "北京" in html


@pytest.mark.parametrize("typed", ["B2021001", "b2021001", "(01)06901234567892(17)300101(10)B2021001"])
def test_search_by_lot_number_or_scanned_code_opens_the_lot(world, client, typed):
    r = as_user(client, world, "supervisor").get("/supply/lots/", {"q": typed})
    assert (r.status_code, r["Location"]) == (302, "/supply/lots/B2021001/")


def test_partial_search_lists_the_matches(world, client):
    r = as_user(client, world, "supervisor").get("/supply/lots/", {"q": "2021R"})
    html = r.content.decode()
    assert "B2021R01" in html and "B2021001" not in html


def test_trace_page_shows_figures_stores_and_recipients(world, client):
    give(world, 1)
    r = as_user(client, world, "supervisor").get("/supply/lots/B2021001/")
    assert r.status_code == 200
    html = r.content.decode()
    for text in ("KD-MASS", "Kangding", "张*三", "13800138000", "recipients.csv", 'id="county-chart"',
                 'data-testid="status-form"'):
        assert text in html, text
    assert AuditEvent.objects.filter(action="lot.recipients_view", source="web").count() == 1


def test_supply_officer_traces_but_sees_no_recipients_and_no_form(world, client):
    give(world, 2)
    html = as_user(client, world, "supply_officer").get("/supply/lots/B2021001/").content.decode()
    assert "KD-MASS" in html
    assert "13800138000" not in html and "recipients.csv" not in html and 'data-testid="status-form"' not in html
    r = client.get("/supply/lots/B2021001/recipients.csv")
    assert r.status_code == 403


def test_supervisor_recalls_from_the_page(world, client):
    c = as_user(client, world, "supervisor")
    r = c.post("/supply/lots/B2021001/", {"action": "recall", "reason": "Manufacturer's notice"})
    assert (r.status_code, r["Location"]) == (302, "/supply/lots/B2021001/")
    assert Lot.objects.get(lot_number="B2021001").status == LotStatus.RECALLED
    html = c.get("/supply/lots/B2021001/").content.decode()
    assert "Manufacturer&#x27;s notice" in html and 'data-testid="lot-stopped"' in html
    assert 'data-testid="action-release"' in html and 'data-testid="action-recall"' not in html


def test_page_refuses_a_change_without_reason(world, client):
    r = as_user(client, world, "supervisor").post("/supply/lots/B2021001/", {"action": "quarantine", "reason": " "})
    assert r.status_code == 422
    assert 'data-error-code="lot_status_reason_required"' in r.content.decode()
    assert Lot.objects.get(lot_number="B2021001").status == LotStatus.RELEASED


def test_page_change_by_another_role_is_forbidden(world, client):
    r = as_user(client, world, "county_command").post("/supply/lots/B2021001/", {"action": "recall", "reason": "x"})
    assert r.status_code == 403
    assert Lot.objects.get(lot_number="B2021001").status == LotStatus.RELEASED


def test_csv_download_from_the_page(world, client):
    give(world, 3)
    r = as_user(client, world, "county_command").get("/supply/lots/B2021001/recipients.csv")
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert AuditEvent.objects.filter(action="lot.recipients_export", source="web").count() == 1


def test_pages_access(world, client):
    lot = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number="B2021AB1",
                             expiry_date=dt.date(2030, 1, 1))
    ledger.post([Line(world.stores["AB-FIX"].pk, lot.pk, 100, "receipt")], reason="receipt", user=None,
                occurred_at=AT)
    assert client.get("/supply/lots/").status_code == 302  # anonymous: to the log-in page
    assert as_user(client, world, "vaccinator").get("/supply/lots/").status_code == 403
    assert client.get("/supply/lots/B2021001/").status_code == 403
    c = as_user(client, world, "supervisor")
    assert c.get("/supply/lots/B2021AB1/").status_code == 404
    assert c.get("/supply/lots/NOPE/").status_code == 404
