"""Key groups 应种尽种: eligible with the removed shown, coverage, the list to reach, adding members."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import make_person
from vaxops.keygroups.models import Membership
from vaxops.keygroups.services import add_members
from vaxops.registry.models import Deferral, Person
from vaxops.staff.models import Unit
from vaxops.vaccination.services import record_dose

pytestmark = pytest.mark.django_db
T = dt.timezone(dt.timedelta(hours=8))
AT = "2021-06-01T19:00:00+08:00"


SINCE = dt.date(2021, 3, 1)  # the hospital's staff list, as it stood before the campaign


@pytest.fixture
def hospital(world):
    kd = world.divisions["513301"]
    return Unit.objects.create(code="KD-HOSP", name_zh="康定市人民医院", name_en="Kangding hospital", kind="hospital",
                               hospital_level=2, division=kd, county_code="513301")


@pytest.fixture
def staff(world, hospital):
    """Five medical staff of the Kangding hospital: two vaccinated (one completed), one
    permanently contraindicated, one deceased, one still to reach."""
    people = [make_person(world, seq=400 + i, name=n) for i, n in enumerate(["卓玛", "扎西", "次仁", "拉姆", "格桑"])]
    add_members([{"person_id": p.pk, "group": "medical_staff", "unit": "KD-HOSP", "since": SINCE} for p in people],
                acting_user=world.users["county_command"], source="cli")
    for p, days in ((people[0], [dt.date(2021, 4, 1), dt.date(2021, 4, 25)]), (people[1], [dt.date(2021, 5, 1)])):
        for day in days:
            record_dose(client_uuid=uuid.uuid4(), person_id=p.pk, product_code="BIBP", lot_number="B2021001",
                        site_code="KD-MASS", administered_at=dt.datetime.combine(day, dt.time(10), tzinfo=T),
                        acting_user=world.users["vaccinator"], source="api")
    Deferral.objects.create(person=people[2], code="severe_allergic_reaction", since=dt.date(2021, 4, 1))
    Person.objects.filter(pk=people[3].pk).update(status="deceased")
    return people


def group(r, code="medical_staff"):
    return next(g for g in r.json()["groups"] if g["code"] == code)


def test_key_group_figures_show_the_removed_and_the_coverage_of_the_eligible(api, world, staff):
    r = api(world.tokens["county_command"]).get("/stats/key-groups", division="513301", at=AT)
    assert r.status_code == 200, r.content
    g = group(r)
    assert (g["registered"], g["contraindicated"], g["deceased"], g["removed"], g["eligible"]) == (5, 1, 1, 2, 3)
    assert (g["first_dose_people"], g["completed_people"], g["not_vaccinated"]) == (2, 1, 1)
    assert g["coverage"] == round(2 / 3, 4)
    # As of an earlier moment only the first dose of April was given.
    earlier = group(api(world.tokens["county_command"]).get("/stats/key-groups", division="513301",
                                                              at="2021-04-10T00:00:00+08:00"))
    assert (earlier["first_dose_people"], earlier["completed_people"]) == (1, 0)


def test_the_unit_and_the_county_see_the_one_still_to_reach(api, world, staff):
    for params in ({"division": "513301"}, {"unit": "KD-HOSP"}):
        r = api(world.tokens["county_command"]).get("/key-groups/not-vaccinated", at=AT, **params)
        assert r.status_code == 200, r.content
        assert [i["person_id"] for i in r.json()["items"]] == [staff[4].pk]
        item = r.json()["items"][0]
        assert item["id_number_masked"] != staff[4].id_number and item["unit"] == "KD-HOSP"


def test_out_of_area_readers_see_no_member_and_no_unit(api, world, staff):
    r = api(world.tokens["county_command_ld"]).get("/key-groups/not-vaccinated", unit="KD-HOSP")
    assert r.status_code == 404 and r.json()["code"] == "unit_not_found"
    r = api(world.tokens["county_command_ld"]).get("/stats/key-groups", division="513301")
    assert r.status_code == 404
    r = api(world.tokens["county_command_ld"]).get("/stats/key-groups", division="513322", at=AT)
    assert group(r)["registered"] == 0


def test_adding_a_member_twice_adds_them_once(api, world, hospital):
    p = make_person(world, seq=501)
    client = api(world.tokens["county_command"])
    r = client.post("/key-groups/members", {"person_id": p.pk, "group": "monastics"})
    assert r.status_code == 201, r.content
    r = client.post("/key-groups/members", {"person_id": p.pk, "group": "monastics", "unit": "KD-HOSP"})
    assert r.status_code == 200 and r.json()["changed"] == 1
    assert Membership.objects.get(person=p).unit == hospital
    p.refresh_from_db()
    assert p.priority_groups == ["monastics"]


@pytest.mark.parametrize(("role", "change", "status", "code"), [
    ("county_command", {"group": "astronauts"}, 404, "keygroup_not_found"),
    ("county_command", {"unit": "NOPE"}, 404, "unit_not_found"),
    ("county_command_ld", {}, 404, "person_not_found"),
    ("vaccinator", {}, 403, "permission_denied"),
])
def test_bad_members_are_refused_and_write_nothing(api, world, role, change, status, code):
    p = make_person(world, seq=502)
    r = api(world.tokens[role]).post("/key-groups/members", {"person_id": p.pk, "group": "teachers", **change})
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert not Membership.objects.exists()


def test_the_grid_worker_sees_whole_phones_site_staff_masked(api, world, staff):
    full = api(world.tokens["grid_worker"]).get("/key-groups/not-vaccinated", at=AT).json()["items"][0]["phone"]
    masked = api(world.tokens["site_manager"]).get("/key-groups/not-vaccinated", at=AT).json()["items"][0]["phone"]
    assert "*" not in full and "*" in masked or not full


def test_people_registered_with_a_group_become_members_once(world):
    from django.core.management import call_command

    p = make_person(world, seq=701, priority_groups=["teachers", "monastics"])
    make_person(world, seq=702, county="513322", priority_groups=["teachers"])
    call_command("sync_key_groups", "--user", "county_command")
    assert set(Membership.objects.values_list("person_id", "group__code")) == {(p.pk, "teachers"), (p.pk, "monastics")}
    call_command("sync_key_groups", "--user", "county_command")
    assert Membership.objects.count() == 2


def test_a_member_counts_from_the_day_they_joined_the_group(api, world, staff):
    """A list imported on 20 May does not change the coverage of 1 May; the unvaccinated list
    of 1 May leaves them out too."""
    late = make_person(world, seq=420, name="央金")
    add_members([{"person_id": late.pk, "group": "medical_staff", "since": "2021-05-20"}],
                acting_user=world.users["county_command"], source="cli")
    client = api(world.tokens["county_command"])
    before = group(client.get("/stats/key-groups", division="513301", at="2021-05-01T19:00:00+08:00"))
    after = group(client.get("/stats/key-groups", division="513301", at=AT))
    assert (before["registered"], after["registered"]) == (5, 6)
    assert after["not_vaccinated"] == before["not_vaccinated"] + 1
    listed = client.get("/key-groups/not-vaccinated", division="513301", group="medical_staff",
                        at="2021-05-01T19:00:00+08:00").json()
    assert late.pk not in [m["person_id"] for m in listed["items"]]
    items = client.get("/key-groups/not-vaccinated", division="513301", group="medical_staff", at=AT).json()["items"]
    assert next(m for m in items if m["person_id"] == late.pk)["since"] == "2021-05-20"


@pytest.mark.parametrize("since, code", [((dt.date.today() + dt.timedelta(days=2)).isoformat(),
                                          "member_since_in_future"), ("2021-02-30", "invalid_request")])
def test_a_member_from_a_day_to_come_or_no_day_is_refused(api, world, since, code):
    p = make_person(world, seq=422)
    r = api(world.tokens["county_command"]).post("/key-groups/members", {"person_id": p.pk, "group": "teachers",
                                                                         "since": since})
    assert (r.status_code, r.json()["code"]) == (422, code), r.content
    assert not Membership.objects.filter(person=p).exists()


def test_members_from_the_registry_belong_from_the_day_they_were_registered(world):
    from vaxops.keygroups.services import members_from_registry

    p = make_person(world, seq=424, priority_groups=["teachers"])
    Person.objects.filter(pk=p.pk).update(created_at=dt.datetime(2021, 4, 2, 9, tzinfo=T))
    assert members_from_registry(acting_user=world.users["county_command"], source="cli") >= 1
    assert Membership.objects.get(person=p, group__code="teachers").since == dt.date(2021, 4, 2)
