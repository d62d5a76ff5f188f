"""GET /api/v1/worklists, POST /api/v1/outreach, GET /api/v1/outreach/rollup: the contract's
fields, retries, and the bad input of issue 10 §8 answered with a code and nothing written."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import make_person
from vaxops.outreach.models import ContactAttempt
from vaxops.outreach.tests.helpers import give_dose

pytestmark = pytest.mark.django_db


def test_the_worklist_has_the_contract_fields(api, world):
    p = make_person(world, seq=111, phone="13900000111", born=dt.date(1950, 2, 2))
    body = api(world.tokens["grid_worker"]).get("/worklists", division="513301001", kind="unvaccinated").json()
    assert body["count"] == 1
    item = body["items"][0]
    for field in ("person_id", "name", "id_number_masked", "age", "phone", "due_date", "last_outcome"):
        assert field in item
    assert item["person_id"] == p.pk and item["phone"] == "13900000111" and item["last_outcome"] is None


def test_a_long_lists_count_stops_at_the_cap_and_says_so(api, world, monkeypatch):
    from vaxops.outreach import worklists

    people = [make_person(world, seq=140 + i, born=dt.date(1950 + i, 1, 1)) for i in range(4)]
    monkeypatch.setattr(worklists, "COUNT_CAP", 3)
    client = api(world.tokens["township_organiser"])
    body = client.get("/worklists", division="513301001", kind="unvaccinated").json()
    assert body["count"] == 3 and body["count_capped"] is True
    assert [i["person_id"] for i in body["items"]] == [p.pk for p in people]  # the page is whole
    monkeypatch.setattr(worklists, "COUNT_CAP", 4)
    body = client.get("/worklists", division="513301001", kind="unvaccinated").json()
    assert body["count"] == 4 and body["count_capped"] is False


def test_due_and_overdue_lists_on_a_given_day(api, world):
    p = make_person(world, seq=113)
    give_dose(world, p, dt.date(2021, 5, 1))
    client = api(world.tokens["township_organiser"])
    due = client.get("/worklists", division="513301001", kind="due", on="2021-05-20").json()
    assert [i["person_id"] for i in due["items"]] == [p.pk] and due["items"][0]["due_date"] == "2021-05-22"
    overdue = client.get("/worklists", division="513301", kind="overdue", on="2021-06-30")
    assert overdue.status_code == 404  # the county is outside a township organiser's area
    assert api(world.tokens["county_command"]).get("/worklists", division="513301", kind="overdue",
                                                   on="2021-06-30").json()["count"] == 1


def test_a_contact_is_201_and_its_retry_200(api, world):
    p = make_person(world, seq=115)
    client = api(world.tokens["grid_worker"])
    body = {"client_uuid": str(uuid.uuid4()), "person_id": p.pk, "channel": "visit", "outcome": "away",
            "until": (dt.date.today() + dt.timedelta(days=30)).isoformat(), "place": "out_of_county",
            "note": "在成都打工"}
    first = client.post("/outreach", body)
    assert first.status_code == 201, first.content
    assert first.json()["on_list_from"] == body["until"]
    assert client.post("/outreach", body).status_code == 200
    assert ContactAttempt.objects.count() == 1
    listed = client.get("/worklists", division="513301001").json()
    assert listed["count"] == 0


@pytest.mark.parametrize("change, code, status", [
    ({"outcome": "abducted"}, "unknown_outcome", 422),
    ({"outcome": "deferred", "until": "2021-01-01"}, "until_in_past", 422),
    ({"outcome": "refused"}, "outreach_field_required", 422),
    ({"channel": "telegram"}, "outreach_value_invalid", 422),
    ({"person_id": 10**9}, "person_not_found", 404),
])
def test_bad_contacts_are_refused_with_a_code(api, world, change, code, status):
    p = make_person(world, seq=117)
    body = {"client_uuid": str(uuid.uuid4()), "person_id": p.pk, "channel": "phone", "outcome": "will_come",
            **change}
    r = api(world.tokens["grid_worker"], language="zh-hans").post("/outreach", body)
    assert r.status_code == status and r.json()["code"] == code, r.content
    assert r.json()["message"]
    assert not ContactAttempt.objects.exists()


def test_an_unknown_list_kind_is_refused(api, world):
    r = api(world.tokens["grid_worker"]).get("/worklists", division="513301001", kind="everyone")
    assert r.status_code == 422 and r.json()["code"] == "unknown_worklist_kind"


def test_the_rollup_counts_each_resident_once_by_the_latest_contact(api, world):
    p = make_person(world, seq=119)
    client = api(world.tokens["grid_worker"])
    for outcome in ("unreachable", "will_come"):
        client.post("/outreach", {"client_uuid": str(uuid.uuid4()), "person_id": p.pk, "channel": "phone",
                                  "outcome": outcome})
    body = api(world.tokens["county_command"]).get("/outreach/rollup", division="513301").json()
    assert (body["contacted"], body["reached"], body["booked"], body["unreached"]) == (1, 1, 1, 0)
    assert body["children"][0]["division_code"] == "513301001"


def test_the_report_section_outreach(world):
    from django.utils import timezone

    from vaxops.campaign.services import TZ
    from vaxops.outreach.tests.helpers import contact
    from vaxops.reports.sections import ReportContext, contributed

    a, b = make_person(world, seq=121), make_person(world, seq=123)
    contact(world, a, "refused", concern="safety")
    now = timezone.now().astimezone(TZ)
    ctx = ReportContext(division=world.divisions["513301"], day=now.date(), start=now.replace(hour=0),
                        cutoff=now + dt.timedelta(minutes=1))
    (section,) = [s for s in contributed(ctx) if s.key == "outreach"]
    assert section.figures["refused"] == 1 and section.figures["unreached"] == 1
    assert section.rows[-1][1:] == [1, 1, 0, 1, 0, 1]
    assert b.pk
