"""Recording and voiding doses through POST /api/v1/doses."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import dose_body, make_person
from vaxops.campaign.services import counter_snapshot, rebuild_counters
from vaxops.core.models import AuditEvent
from vaxops.vaccination.models import DoseRecord


@pytest.fixture
def vaccinator(api, world):
    return api(world.tokens["vaccinator"])


def test_first_dose_is_recorded_with_number_kind_and_counters(vaccinator, person, world):
    r = vaccinator.post("/doses", dose_body(person.pk))
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["dose_number"], body["kind"], body["completes_series"]) == (1, "primary", False)
    dose = DoseRecord.objects.get(pk=body["id"])
    # A past day's dose: no session of that day, none created (docs/sessions.md).
    assert dose.county_code == "513301" and dose.site.code == "KD-MASS" and dose.session_id is None
    assert sum(counter_snapshot().values()) == 1
    assert AuditEvent.objects.filter(action="dose.record", object_id=str(dose.pk)).count() == 1


def test_retry_with_same_client_uuid_returns_first_record(vaccinator, person):
    body = dose_body(person.pk)
    first = vaccinator.post("/doses", body)
    again = vaccinator.post("/doses", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert DoseRecord.objects.count() == 1
    assert sum(counter_snapshot().values()) == 1


def test_same_client_uuid_with_other_content_is_a_conflict(vaccinator, person):
    body = dose_body(person.pk)
    vaccinator.post("/doses", body)
    r = vaccinator.post("/doses", {**body, "lot_number": "C2021001", "product": "CORONAVAC"})
    assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict"


def test_dose_two_before_21_days_is_refused_with_earliest_date(vaccinator, person):
    vaccinator.post("/doses", dose_body(person.pk, at="2021-05-01T09:00:00+08:00"))
    r = vaccinator.post("/doses", dose_body(person.pk, at="2021-05-15T09:00:00+08:00"))
    assert r.status_code == 422
    assert r.json()["code"] == "dose_too_early"
    assert r.json()["detail"]["earliest_date"] == "2021-05-22"
    assert DoseRecord.objects.count() == 1


def test_dose_two_after_21_days_completes_the_series(vaccinator, person):
    vaccinator.post("/doses", dose_body(person.pk, at="2021-05-01T09:00:00+08:00"))
    r = vaccinator.post("/doses", dose_body(person.pk, at="2021-05-22T09:00:00+08:00", product="CORONAVAC",
                                           lot="C2021001"))
    assert r.status_code == 201, r.content
    assert r.json()["dose_number"] == 2 and r.json()["completes_series"] is True


def test_same_day_second_submission_is_dose_already_recorded(vaccinator, person):
    vaccinator.post("/doses", dose_body(person.pk, at="2021-05-01T09:00:00+08:00"))
    r = vaccinator.post("/doses", dose_body(person.pk, at="2021-05-01T09:05:00+08:00"))
    assert r.status_code == 409 and r.json()["code"] == "dose_already_recorded"


@pytest.mark.parametrize(
    ("lot", "product", "code"),
    [
        ("B2020999", "BIBP", "lot_expired"),
        ("B2021Q01", "BIBP", "lot_quarantined"),
        ("B2021R01", "BIBP", "lot_recalled"),
        ("C2021001", "BIBP", "lot_wrong_product"),
        ("NOPE", "BIBP", "lot_not_found"),
        ("B2021001", "NOPE", "product_not_found"),
    ],
)
def test_unusable_lot_or_product_is_refused_and_nothing_is_written(vaccinator, person, lot, product, code):
    r = vaccinator.post("/doses", dose_body(person.pk, lot=lot, product=product))
    assert r.json()["code"] == code
    assert r.status_code in (404, 422)
    assert r.json()["message"]
    assert DoseRecord.objects.count() == 0 and counter_snapshot() == {}


def test_vaccinator_cannot_record_at_a_site_outside_their_scope(vaccinator, person):
    r = vaccinator.post("/doses", dose_body(person.pk, site="LD-MASS"))
    assert r.status_code == 404 and r.json()["code"] == "site_not_found"


def test_traveller_from_another_county_can_be_vaccinated(vaccinator, world):
    traveller = make_person(world, county="513322", seq=457, name="李四")
    vaccinator.get("/people", id_number=traveller.id_number)  # the card in hand
    r = vaccinator.post("/doses", dose_body(traveller.pk))
    assert r.status_code == 201


def test_under_18_refusal_needs_a_site_manager_with_a_reason(api, world, vaccinator):
    teen = make_person(world, born=dt.date(2006, 1, 1), seq=111, name="王五")
    refused = vaccinator.post("/doses", dose_body(teen.pk))
    assert refused.status_code == 422 and refused.json()["code"] == "not_eligible"
    assert refused.json()["detail"]["overridable"] is True
    by_vaccinator = vaccinator.post("/doses", dose_body(teen.pk, override_reason="clinician decision"))
    assert by_vaccinator.status_code == 403 and by_vaccinator.json()["code"] == "override_not_permitted"
    manager = api(world.tokens["site_manager"])
    blank = manager.post("/doses", dose_body(teen.pk, override_reason="   "))
    assert blank.status_code == 422 and blank.json()["code"] == "override_reason_required"
    ok = manager.post("/doses", dose_body(teen.pk, override_reason="emergency-use approval letter 17"))
    assert ok.status_code == 201
    event = AuditEvent.objects.get(action="dose.record", object_id=str(ok.json()["id"]))
    assert event.after["override_reason"] == "emergency-use approval letter 17"
    assert event.after["reasons_overridden"]


def test_dose_in_the_future_is_refused(vaccinator, person):
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).isoformat()
    r = vaccinator.post("/doses", dose_body(person.pk, at=future))
    assert r.status_code == 422 and r.json()["code"] == "administered_in_future"


def test_unknown_person_is_not_found(vaccinator, world):
    r = vaccinator.post("/doses", dose_body(999999))
    assert r.status_code == 404 and r.json()["code"] == "person_not_found"


def test_void_needs_a_reason_reverses_counters_and_is_audited(api, vaccinator, person, world):
    dose_id = vaccinator.post("/doses", dose_body(person.pk)).json()["id"]
    manager = api(world.tokens["site_manager"])
    r = manager.post(f"/doses/{dose_id}/void", {"reason": " "})
    assert r.status_code == 422 and r.json()["code"] == "void_reason_required"
    r = manager.post(f"/doses/{dose_id}/void", {"reason": "entered for the wrong person"})
    assert r.status_code == 200 and r.json()["status"] == "voided"
    assert sum(counter_snapshot().values()) == 0
    assert manager.post(f"/doses/{dose_id}/void", {"reason": "again"}).json()["code"] == "dose_already_voided"
    assert AuditEvent.objects.filter(action="dose.void").count() == 1
    # Once voided, the dose can be given again.
    assert vaccinator.post("/doses", dose_body(person.pk)).status_code == 201


def test_counters_agree_with_a_rebuild(vaccinator, person, world):
    vaccinator.post("/doses", dose_body(person.pk, at="2021-05-01T09:00:00+08:00"))
    vaccinator.post("/doses", dose_body(person.pk, at="2021-05-25T09:00:00+08:00"))
    live = counter_snapshot()
    rebuild_counters()
    assert counter_snapshot() == live
