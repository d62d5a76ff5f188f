"""POST/GET /api/v1/people and eligibility."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import dose_body, make_person
from vaxops.registry.idnumber import check_character, make_id_number
from vaxops.registry.models import Person


@pytest.fixture
def vaccinator(api, world):
    return api(world.tokens["vaccinator"])


def test_register_derives_birth_date_and_sex_and_masks_the_number(vaccinator):
    number = make_id_number("513301", dt.date(1990, 1, 1), 123)
    r = vaccinator.post("/people", {"id_number": number, "name": "卓玛", "phone": "13800000000"})
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["birth_date"] == "1990-01-01" and body["sex"] == "M"
    assert body["id_number_masked"] == number[:6] + "********" + number[-4:]
    assert number not in r.content.decode()
    assert body["division_code"] == "513301"


def test_fifteen_digit_number_is_converted(vaccinator, world):
    r = vaccinator.post("/people", {"id_number": "513301800101123", "name": "扎西", "division_code": "513301"})
    assert r.status_code == 201
    assert Person.objects.get().id_number == "51330119800101123" + Person.objects.get().id_number[-1]


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("51330119900101", "id_wrong_length"),
        ("5133011990010112A4", "id_bad_characters"),
        ("51330119990230123" + check_character("51330119990230123"), "id_impossible_date"),
        ("51330120990101123" + check_character("51330120990101123"), "id_future_birth_date"),
    ],
)
def test_invalid_id_numbers_are_refused_with_the_reason(vaccinator, raw, reason):
    r = vaccinator.post("/people", {"id_number": raw, "name": "某人"})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_id_number" and r.json()["detail"]["reason"] == reason
    assert not Person.objects.exists()


def test_bad_check_character_is_refused(vaccinator):
    good = make_id_number("513301", dt.date(1990, 1, 1), 123)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    r = vaccinator.post("/people", {"id_number": bad, "name": "某人"})
    assert r.json()["detail"]["reason"] == "id_bad_check_character"


def test_duplicate_person_is_a_conflict_naming_the_existing_id(vaccinator, person):
    r = vaccinator.post("/people", {"id_number": person.id_number, "name": "重复"})
    assert r.status_code == 409 and r.json() == {**r.json(), "code": "person_exists"}
    assert r.json()["detail"]["id"] == person.pk


def test_lookup_by_lowercase_x_number(vaccinator, world):
    number = "11010519491231002X"
    make_person(world, county="513301")  # someone else
    from vaxops.registry.services import register_person

    register_person(id_number=number, name="北京人", division_code="513301001", acting_user=world.users["admin"],
                    source="cli")
    r = vaccinator.get("/people", id_number=number.lower())
    assert r.json()["count"] == 1 and r.json()["items"][0]["name"] == "北京人"


def test_grid_worker_does_not_find_people_outside_their_area(api, world, person):
    other = api(world.tokens["grid_worker_ld"])
    assert other.get("/people", id_number=person.id_number).json()["count"] == 0
    assert other.get(f"/people/{person.pk}").status_code == 404


def test_eligibility_reports_next_dose_and_due_by(vaccinator, person):
    vaccinator.post("/doses", dose_body(person.pk, at="2021-05-01T09:00:00+08:00"))
    r = vaccinator.get(f"/people/{person.pk}/eligibility", product="BIBP", on="2021-05-10")
    body = r.json()
    assert body["status"] == "not_yet" and body["dose_number"] == 2
    assert body["earliest_date"] == "2021-05-22" and body["due_by"] == "2021-06-26"
    assert body["reasons"] and all(x["message"] for x in body["reasons"])
    late = vaccinator.get(f"/people/{person.pk}/eligibility", product="BIBP", on="2021-08-01").json()
    assert late["status"] == "eligible" and late["overdue"] is True and late["dose_number"] == 2
