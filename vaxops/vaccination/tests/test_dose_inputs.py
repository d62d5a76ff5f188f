"""Values the dose path checks itself: ``administered_at`` with its offset and within the
campaign, ``dose_number`` as the rules give it, and replays of another site's submission."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import card_in_hand, dose_body, make_person
from vaxops.core.errors import VaxopsError
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose


@pytest.mark.parametrize(
    "value",
    ["2021-05-10", "2021-05-10T10:00:00", "2021-05-10 10:00", 1620612000, 1620612000.5, True, "", "yesterday",
     "2021-13-40T10:00:00+08:00", "2021-05-10T10:00:00+25:00", None, ["2021-05-10T10:00:00+08:00"]],
)
def test_a_time_without_an_offset_is_invalid_datetime(api, world, person, value):
    r = api(world.tokens["vaccinator"]).post("/doses", {**dose_body(person.pk), "administered_at": value})
    assert r.status_code == 422 and r.json()["code"] == "invalid_datetime", r.content
    assert DoseRecord.objects.count() == 0


@pytest.mark.parametrize("value", ["2021-05-10T02:00:00Z", "2021-05-10T10:00:00+08:00", "2021-05-10T10:00+0800"])
def test_a_time_with_an_offset_is_accepted(api, world, person, value):
    r = api(world.tokens["vaccinator"]).post("/doses", {**dose_body(person.pk), "administered_at": value})
    assert r.status_code == 201, r.content


def test_record_dose_refuses_a_naive_datetime(world, person):
    with pytest.raises(VaxopsError) as refused:
        record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS", administered_at=dt.datetime(2021, 5, 10, 10),
                    acting_user=world.users["vaccinator"], source="api")
    assert refused.value.code == "invalid_datetime"
    assert DoseRecord.objects.count() == 0


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("0001-01-01T00:00:00+08:00", "administered_before_campaign"),
        ("1900-06-01T10:00:00+08:00", "administered_before_campaign"),
        ("2020-12-14T23:59:59+08:00", "administered_before_campaign"),
        ("9999-12-31T23:59:59-08:00", "administered_in_future"),
        ("9999-12-31T23:59:59+08:00", "administered_in_future"),
    ],
)
def test_a_time_outside_the_campaign_is_refused(api, world, person, value, code):
    for role in ("vaccinator", "site_manager"):
        r = api(world.tokens[role]).post("/doses", {**dose_body(person.pk), "administered_at": value,
                                                    "retrospective_reason": "paper record"})
        assert r.status_code == 422 and r.json()["code"] == code, r.content
    assert DoseRecord.objects.count() == 0


def test_dose_number_sent_must_be_the_one_the_rules_give(api, world, person):
    vaccinator = api(world.tokens["vaccinator"])
    r = vaccinator.post("/doses", dose_body(person.pk, dose_number=2))
    assert r.status_code == 422 and r.json()["code"] == "dose_number_mismatch"
    assert r.json()["detail"] == {"expected": 1, "sent": 2}
    assert DoseRecord.objects.count() == 0
    assert vaccinator.post("/doses", dose_body(person.pk, dose_number=1)).status_code == 201


def test_dose_number_already_recorded_stays_a_conflict(api, world, person):
    vaccinator = api(world.tokens["vaccinator"])
    vaccinator.post("/doses", dose_body(person.pk, at="2021-05-01T10:00:00+08:00"))
    r = vaccinator.post("/doses", dose_body(person.pk, at="2021-05-25T10:00:00+08:00", dose_number=1))
    assert r.status_code == 409 and r.json()["code"] == "dose_already_recorded"
    r = vaccinator.post("/doses", dose_body(person.pk, at="2021-05-25T10:00:00+08:00", dose_number=3))
    assert r.status_code == 422 and r.json()["detail"] == {"expected": 2, "sent": 3}


def test_a_replay_from_another_site_is_a_conflict_that_shows_nothing(api, world, person):
    body = dose_body(person.pk)
    first = api(world.tokens["vaccinator"]).post("/doses", body)
    assert first.status_code == 201
    for role in ("vaccinator_ld", "site_manager_ld"):
        r = api(world.tokens[role]).post("/doses", body)
        assert r.status_code == 409 and r.json()["code"] == "idempotency_conflict", r.content
        assert set(r.json()["detail"]) == {"client_uuid"}
        assert str(person.pk) not in r.content.decode().replace(body["client_uuid"], "")
    # The same body for the Luding site itself, the card in hand: the submission ID is taken,
    # nothing more.
    card_in_hand(world, "vaccinator_ld", person)
    r = api(world.tokens["vaccinator_ld"]).post("/doses", {**body, "site_code": "LD-MASS"})
    assert r.status_code == 409 and set(r.json()["detail"]) == {"client_uuid"}
    assert DoseRecord.objects.count() == 1


def test_a_replay_by_a_colleague_at_the_same_site_returns_the_record(api, world, person):
    body = dose_body(person.pk)
    first = api(world.tokens["vaccinator"]).post("/doses", body)
    again = api(world.tokens["site_manager"]).post("/doses", body)
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]


def test_a_replay_through_the_service_by_a_user_outside_the_grants_is_a_conflict(world):
    traveller = make_person(world, county="513322", seq=401, name="李四")
    client_uuid = uuid.uuid4()
    kwargs = {"client_uuid": client_uuid, "person_id": traveller.pk, "product_code": "BIBP", "lot_number": "B2021001",
                  "site_code": "KD-MASS", "administered_at": dt.datetime(2021, 5, 10, 10, tzinfo=dt.UTC), "source": "api"}
    card_in_hand(world, "vaccinator", traveller)
    record_dose(acting_user=world.users["vaccinator"], **kwargs)
    with pytest.raises(VaxopsError) as refused:
        record_dose(acting_user=world.users["vaccinator_ld"], **kwargs)
    assert refused.value.code == "idempotency_conflict" and "id" not in refused.value.detail
