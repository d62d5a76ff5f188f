"""The session pages: the week planner and one session's page (docs/sessions.md)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse

from vaxops.sites import sessions
from vaxops.sites.models import Session, SessionTemplate
from vaxops.staff import readiness

T = dt.time
MONDAY = dt.date(2021, 5, 10)


def as_user(client, world, role, language="en"):
    client.force_login(world.users[role])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_planner_shows_the_week_with_each_sessions_status_hours_and_doses(client, world):
    s = sessions.create_session(site="KD-MASS", date=MONDAY + dt.timedelta(days=2), kind="fixed", opens_at=T(8),
                                closes_at=T(17), planned_doses=3000, acting_user=world.users["county_command"])
    c = as_user(client, world, "county_command")
    r = c.get(reverse("sites:planner"), {"week": "2021-05-12"})
    body = r.content.decode()
    assert r.status_code == 200
    assert f'data-testid="session-{s.pk}"' in body and "08:00–17:00" in body and "3000 doses planned" in body
    assert "10 May 2021" in body and "16 May 2021" in body
    assert 'data-testid="plan-week"' in body and 'data-testid="add-form"' in body
    assert "week=2021-05-03" in body and "week=2021-05-17" in body
    assert reverse("sites:planner") in c.get(reverse("web:dashboard")).content.decode()
    zh = as_user(client, world, "county_command", "zh-hans").get(reverse("sites:planner"), {"week": "2021-05-12"})
    assert "场次" in zh.content.decode() and "2021年5月10日" in zh.content.decode()


def test_plan_this_week_from_the_templates(client, world):
    SessionTemplate.objects.create(site=world.sites["KD-MASS"], weekday=1, opens_at=T(8), closes_at=T(17))
    c = as_user(client, world, "county_command")
    r = c.post(reverse("sites:plan_week"), {"county": "513301", "week": "2021-05-10"}, follow=True)
    assert "1 sessions planned" in r.content.decode()
    assert Session.objects.filter(date=dt.date(2021, 5, 11), site=world.sites["KD-MASS"]).exists()


def test_add_an_outreach_session_with_stops_and_see_a_refusal_beside_the_form(client, world):
    c = as_user(client, world, "county_command")
    data = {"county": "513301", "site": "KD-THC", "date": "2021-05-12", "kind": "outreach", "opens_at": "08:00",
            "closes_at": "12:00", "planned_doses": "40", "organisation": "", "stops": "炉城街道 09:30"}
    r = c.post(reverse("sites:add"), data, follow=True)
    session = Session.objects.get(site=world.sites["KD-THC"], date=dt.date(2021, 5, 12))
    assert [(x.division.code, x.arrives_at) for x in session.stops.all()] == [("513301001", T(9, 30))]
    assert "Lucheng · 09:30" in r.content.decode()
    r = c.post(reverse("sites:add"), {**data, "opens_at": "10:00", "stops": ""})
    assert r.status_code == 422 and "may not overlap" in r.content.decode()


def test_open_refused_shows_the_missing_items_then_open_and_close(client, world, monkeypatch):
    s = sessions.create_session(site="KD-MASS", date=MONDAY, kind="fixed", opens_at=T(8), closes_at=T(17),
                                acting_user=world.users["county_command"])
    c = as_user(client, world, "site_manager")
    url = reverse("sites:session", args=[s.pk])
    page = c.get(url).content.decode()
    assert 'data-testid="open"' in page and 'data-testid="close"' not in page
    monkeypatch.setattr(readiness, "missing_items", lambda session: ["ambulance"])
    r = c.post(url, {"action": "open"})
    body = r.content.decode()
    assert r.status_code == 409 and 'data-testid="missing"' in body
    # The item in words a person reads, not its code.
    assert ("救护车及车牌、随车人员" in body or "Ambulance with its plate and crew" in body) and "<li>ambulance</li>" not in body
    monkeypatch.setattr(readiness, "missing_items", lambda session: [])
    r = c.post(url, {"action": "open"}, follow=True)
    assert 'data-testid="close"' in r.content.decode()
    r = c.post(url, {"action": "close"}, follow=True)
    body = r.content.decode()
    assert 'data-testid="figures"' in body and 'data-testid="open"' not in body
    s.refresh_from_db()
    assert s.status == "closed"


def test_who_sees_the_pages(client, world):
    s = sessions.create_session(site="KD-MASS", date=MONDAY, kind="fixed", opens_at=T(8), closes_at=T(17),
                                acting_user=world.users["county_command"])
    url = reverse("sites:session", args=[s.pk])
    assert as_user(client, world, "grid_worker").get(reverse("sites:planner")).status_code == 403
    assert reverse("sites:planner") not in client.get(reverse("web:dashboard")).content.decode()
    assert as_user(client, world, "site_manager_ld").get(url).status_code == 404
    page = as_user(client, world, "vaccinator").get(url)
    assert page.status_code == 200 and 'data-testid="open"' not in page.content.decode()
    assert as_user(client, world, "vaccinator").post(url, {"action": "open"}).status_code == 403


@pytest.mark.parametrize("role", ["prefecture_command", "supervisor", "supply_officer", "admin"])
def test_the_planner_renders_for_every_role_that_sees_sessions(client, world, role):
    assert as_user(client, world, role).get(reverse("sites:planner")).status_code == 200
