"""Retrospective entry: a dose recorded more than VAXOPS_RETROSPECTIVE_HOURS after it was given
may be entered only by a site manager (their site) or a county command (their county), with a
written reason; it is flagged, and the day must have been possible for the product and lot."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import dose_body, make_person, stock
from vaxops.campaign.services import counter_snapshot
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

pytestmark = pytest.mark.usefixtures("real_retrospective_window")

BACK = "2021-06-01T10:00:00+08:00"
REASON = "Paper register of the 1 June mobile session, entered after the network came back."


def test_vaccinator_cannot_back_date_a_dose(api, world, person):
    r = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk, at=BACK, retrospective_reason=REASON))
    assert r.status_code == 403 and r.json()["code"] == "retrospective_not_allowed"
    assert DoseRecord.objects.count() == 0 and counter_snapshot() == {}


def test_site_manager_needs_a_written_reason(api, world, person):
    manager = api(world.tokens["site_manager"])
    for reason in (None, "  "):
        body = dose_body(person.pk, at=BACK, **({} if reason is None else {"retrospective_reason": reason}))
        r = manager.post("/doses", body)
        assert r.status_code == 422 and r.json()["code"] == "retrospective_reason_required"
    assert DoseRecord.objects.count() == 0


def test_site_manager_records_a_retrospective_entry_with_a_reason(api, world, person):
    r = api(world.tokens["site_manager"]).post("/doses", dose_body(person.pk, at=BACK, retrospective_reason=REASON))
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["retrospective"] is True and body["retrospective_reason"] == REASON
    assert body["recorded_by"] == "site_manager"
    dose = DoseRecord.objects.get(pk=body["id"])
    assert dose.retrospective and dose.vaccinator == world.users["site_manager"]
    assert dose.recorded_at - dose.administered_at > dt.timedelta(days=365)
    event = AuditEvent.objects.get(action="dose.record", object_id=str(dose.pk))
    assert event.after["retrospective"] is True and event.after["retrospective_reason"] == REASON


def test_a_dose_within_the_window_is_not_retrospective(api, world, person):
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=23)).isoformat()
    r = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk, at=recent))
    assert r.status_code == 201 and r.json()["retrospective"] is False


def test_county_command_records_retrospectively_at_a_site_of_its_county_only(api, world, person):
    county = api(world.tokens["county_command"])
    ok = county.post("/doses", dose_body(person.pk, at=BACK, retrospective_reason=REASON))
    assert ok.status_code == 201 and ok.json()["retrospective"] is True
    other = make_person(world, seq=311, name="赵六")
    r = county.post("/doses", dose_body(other.pk, at=BACK, site="LD-MASS", retrospective_reason=REASON))
    assert r.status_code == 404 and r.json()["code"] == "site_not_found"


def test_county_command_does_not_record_ordinary_doses(api, world, person):
    recent = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).isoformat()
    r = api(world.tokens["county_command"]).post("/doses", dose_body(person.pk, at=recent))
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"


def test_site_manager_of_another_site_cannot_back_date_here(api, world, person):
    r = api(world.tokens["site_manager_ld"]).post("/doses", dose_body(person.pk, at=BACK, retrospective_reason=REASON))
    assert r.status_code == 404 and r.json()["code"] == "site_not_found"


def test_the_lot_must_not_have_been_expired_on_the_day_given(api, world, person):
    # B2020999 expired on 2021-03-01: usable in February, not in June.
    manager = api(world.tokens["site_manager"])
    late = manager.post("/doses", dose_body(person.pk, lot="B2020999", at=BACK, retrospective_reason=REASON))
    assert late.status_code == 422 and late.json()["code"] == "lot_expired"
    early = manager.post("/doses", dose_body(person.pk, lot="B2020999", at="2021-02-20T10:00:00+08:00",
                                             retrospective_reason=REASON))
    assert early.status_code == 201, early.content


def test_a_day_before_the_campaign_start_is_refused(api, world, person):
    r = api(world.tokens["site_manager"]).post(
        "/doses", dose_body(person.pk, at="2020-12-14T10:00:00+08:00", retrospective_reason=REASON))
    assert r.status_code == 422 and r.json()["code"] == "administered_before_campaign"
    assert r.json()["detail"]["campaign_start"] == "2020-12-15"


def test_the_campaign_start_is_a_setting(api, world, person, settings):
    settings.VAXOPS_CAMPAIGN_START = "2021-03-22"
    r = api(world.tokens["site_manager"]).post(
        "/doses", dose_body(person.pk, at="2021-03-21T10:00:00+08:00", retrospective_reason=REASON))
    assert r.status_code == 422 and r.json()["code"] == "administered_before_campaign"


def test_a_day_before_the_products_first_approval_is_refused(api, world, person):
    # ZF2001 was first authorised (emergency use) on 2021-03-10.
    from vaxops.catalog.models import Product
    from vaxops.supply.models import Lot

    lot = Lot.objects.create(product=Product.objects.get(code="ZF2001"), lot_number="Z2021001",
                             expiry_date=dt.date(2030, 1, 1), status="released")
    stock(world, "KD-MASS", lot)
    manager = api(world.tokens["site_manager"])
    r = manager.post("/doses", dose_body(person.pk, product="ZF2001", lot="Z2021001",
                                         at="2021-03-01T10:00:00+08:00", retrospective_reason=REASON))
    assert r.status_code == 422 and r.json()["code"] == "product_not_yet_approved"
    assert r.json()["detail"]["approved_on"] == "2021-03-10"
    assert "ZF2001" in r.json()["message"]
    ok = manager.post("/doses", dose_body(person.pk, product="ZF2001", lot="Z2021001",
                                          at="2021-03-10T10:00:00+08:00", retrospective_reason=REASON))
    assert ok.status_code == 201, ok.content


def test_the_service_refuses_a_back_dated_dose_from_a_vaccinator(world, person):
    with pytest.raises(VaxopsError) as refused:
        record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS", administered_at=dt.datetime.fromisoformat(BACK),
                    acting_user=world.users["vaccinator"], source="api", retrospective_reason=REASON)
    assert refused.value.code == "retrospective_not_allowed" and refused.value.status == 403


def test_the_window_is_a_setting(api, world, person, settings):
    settings.VAXOPS_RETROSPECTIVE_HOURS = 2
    three_hours_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).isoformat()
    r = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk, at=three_hours_ago))
    assert r.status_code == 403 and r.json()["code"] == "retrospective_not_allowed"
