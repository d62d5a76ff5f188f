"""Overriding a refusal: only the catalogue's overridable reasons, only a site manager, with a
written reason; a hard refusal is 422 for everyone whatever ``override_reason`` says."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import dose_body, make_person, stock
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.registry.models import Deferral
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose


@pytest.fixture
def lots(world):
    from vaxops.catalog.models import Product
    from vaxops.supply.models import Lot

    lot = Lot.objects.create(product=Product.objects.get(code="WIBP"), lot_number="W2021001",
                             expiry_date=dt.date(2030, 1, 1), status="released")
    for site in world.sites:
        stock(world, site, lot)


def test_site_manager_cannot_override_a_one_year_old_on_wibp(api, world, lots):
    baby = make_person(world, born=dt.date(2020, 3, 1), seq=201, name="婴儿")
    manager = api(world.tokens["site_manager"])
    r = manager.post("/doses", dose_body(baby.pk, product="WIBP", lot="W2021001", at="2021-06-01T10:00:00+08:00",
                                         override_reason="测试"))
    assert r.status_code == 422 and r.json()["code"] == "not_eligible"
    detail = r.json()["detail"]
    assert detail["overridable"] is False
    blocking = [x for x in detail["reasons"] if x["blocking"]]
    assert [(x["code"], x["overridable"]) for x in blocking] == [("age_below_product_minimum", False)]
    assert DoseRecord.objects.count() == 0
    assert not AuditEvent.objects.filter(action="dose.record").exists()


def test_site_manager_cannot_override_a_17_year_old_on_wibp_in_april_2021(api, world, lots):
    teen = make_person(world, born=dt.date(2003, 9, 1), seq=203, name="少年")
    r = api(world.tokens["site_manager"]).post(
        "/doses", dose_body(teen.pk, product="WIBP", lot="W2021001", at="2021-04-20T10:00:00+08:00",
                            override_reason="他看起来像成年人"))
    assert r.status_code == 422 and r.json()["code"] == "not_eligible"
    assert r.json()["detail"]["overridable"] is False
    assert DoseRecord.objects.count() == 0


def test_15_year_old_on_bibp_in_june_2021_is_overridable_by_a_site_manager_only(api, world):
    teen = make_person(world, born=dt.date(2006, 3, 1), seq=205, name="王五")
    body = dose_body(teen.pk, at="2021-06-01T10:00:00+08:00", override_reason="county approval for 12-17 pilot")
    refused = api(world.tokens["vaccinator"]).post("/doses", dose_body(teen.pk, at="2021-06-01T10:00:00+08:00"))
    assert refused.status_code == 422 and refused.json()["detail"]["overridable"] is True
    assert [(x["code"], x["overridable"]) for x in refused.json()["detail"]["reasons"]] == [
        ("age_group_not_yet_open", True)]
    by_vaccinator = api(world.tokens["vaccinator"]).post("/doses", body)
    assert by_vaccinator.status_code == 403 and by_vaccinator.json()["code"] == "override_not_permitted"
    ok = api(world.tokens["site_manager"]).post("/doses", {**body, "client_uuid": str(uuid.uuid4())})
    assert ok.status_code == 201, ok.content
    assert ok.json()["override_codes"] == ["age_group_not_yet_open"]
    dose = DoseRecord.objects.get(pk=ok.json()["id"])
    assert dose.override_reason == "county approval for 12-17 pilot"
    assert dose.override_codes == ["age_group_not_yet_open"]
    event = AuditEvent.objects.get(action="dose.record", object_id=str(dose.pk))
    assert event.after["reasons_overridden"][0]["code"] == "age_group_not_yet_open"


def test_a_deferral_cleared_by_a_doctor_may_be_overridden(api, world, person):
    Deferral.objects.create(person=person, code="acute_illness", since=dt.date(2021, 5, 28),
                            until=dt.date(2021, 6, 5))
    r = api(world.tokens["site_manager"]).post(
        "/doses", dose_body(person.pk, at="2021-06-01T10:00:00+08:00",
                            override_reason="Fever gone; examined and cleared by Dr Li at the site."))
    assert r.status_code == 201 and r.json()["override_codes"] == ["deferred"]


def test_the_minimum_interval_is_hard_even_with_a_reason(api, world, person):
    manager = api(world.tokens["site_manager"])
    manager.post("/doses", dose_body(person.pk, at="2021-05-01T10:00:00+08:00"))
    r = manager.post("/doses", dose_body(person.pk, at="2021-05-10T10:00:00+08:00", override_reason="leaving town"))
    assert r.status_code == 422 and r.json()["code"] == "dose_too_early"
    assert r.json()["detail"]["overridable"] is False
    assert DoseRecord.objects.count() == 1


def test_the_service_refuses_a_hard_override_too(world):
    baby = make_person(world, born=dt.date(2020, 3, 1), seq=207, name="婴儿")
    with pytest.raises(VaxopsError) as refused:
        record_dose(client_uuid=uuid.uuid4(), person_id=baby.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS", administered_at=dt.datetime(2021, 11, 1, 10, tzinfo=dt.UTC),
                    override_reason="测试", acting_user=world.users["site_manager"], source="api")
    assert refused.value.code == "not_eligible"
    assert DoseRecord.objects.count() == 0
