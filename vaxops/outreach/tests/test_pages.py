"""The outreach pages through the test client: the list, an outcome posted, the roll-up and
the printable village list, each only within the user's area."""

from __future__ import annotations

import pytest

from conftest import make_person
from vaxops.outreach.models import ContactAttempt
from vaxops.outreach.tests.helpers import contact, grid

pytestmark = pytest.mark.django_db


def logged_in(client, world, role):
    client.force_login(world.users[role])
    return client


def test_the_grid_worker_sees_their_list_and_records_an_outcome(client, world):
    p = make_person(world, seq=61, name="卓玛", phone="13900000061")
    c = logged_in(client, world, "grid_worker")
    page = c.get("/outreach/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    assert "卓玛" in page.content.decode() and "13900000061" in page.content.decode()
    r = c.post("/outreach/contact/", {"person_id": p.pk, "channel": "phone", "outcome": "will_come",
                                      "client_uuid": "5f1e4c1a-0000-4000-8000-000000000061", "next": "/outreach/"})
    assert r.status_code == 302
    assert ContactAttempt.objects.get(person=p).outcome == "will_come"
    again = c.get("/outreach/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "最近：会来接种" in again.content.decode()


def test_an_away_outcome_needs_a_date_from_today(client, world):
    p = make_person(world, seq=63)
    c = logged_in(client, world, "grid_worker")
    c.post("/outreach/contact/", {"person_id": p.pk, "channel": "visit", "outcome": "away", "until": "2020-01-01",
                                  "place": "in_county", "next": "/outreach/"})
    assert not ContactAttempt.objects.exists()
    page = c.get("/outreach/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "已过去" in page.content.decode()


def test_the_rollup_ranks_the_grids_with_the_most_unreached_first(client, world):
    g1, g2 = grid(world, "513301001001", "一网格"), grid(world, "513301001002", "二网格")
    a = make_person(world, seq=65, division=g1.code)
    make_person(world, seq=67, division=g2.code)
    make_person(world, seq=69, division=g2.code)
    contact(world, a, "refused", concern="no_need")
    page = logged_in(client, world, "township_organiser").get("/outreach/rollup/?division=513301001",
                                                              HTTP_ACCEPT_LANGUAGE="zh-hans")
    body = page.content.decode()
    assert page.status_code == 200 and body.index("二网格") < body.index("一网格")


def test_the_village_list_prints_every_list(client, world):
    make_person(world, seq=71, name="次仁")
    page = logged_in(client, world, "county_command").get("/outreach/print/?division=513301001",
                                                          HTTP_ACCEPT_LANGUAGE="en")
    body = page.content.decode()
    assert page.status_code == 200 and "次仁" in body and "@page" not in body  # print CSS is in the stylesheet
    assert 'data-testid="print-overdue"' in body


def test_pages_outside_the_area_are_not_found_and_other_roles_forbidden(client, world):
    c = logged_in(client, world, "grid_worker")
    assert c.get("/outreach/?division=513322001").status_code == 404
    assert c.get("/outreach/rollup/?division=513201").status_code == 404
    c.logout()
    assert logged_in(client, world, "vaccinator").get("/outreach/").status_code == 403
