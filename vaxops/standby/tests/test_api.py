"""The standby API: sign up, the list, offers now, confirm and decline, and every refusal."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from vaxops.outbox.models import Message
from vaxops.standby.models import Offer, StandbyEntry
from vaxops.standby.tests.helpers import give, multi_dose_lot, open_session, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def today_session(world):
    """Today's open session at the Kangding mass site with an open 5-dose vial holding 2 doses."""
    from vaxops.campaign.services import TZ

    multi_dose_lot(world)
    session = open_session(world, day=timezone.now().astimezone(TZ).date())
    now = timezone.now()
    for i, p in enumerate(people(world, 3, start=950)):
        give(world, p, now - dt.timedelta(minutes=30 - i))
    return session


def test_sign_up_list_offer_confirm_through_the_api(api, world, today_session):
    s = today_session
    staff = api(world.tokens["vaccinator"])
    ps = people(world, 5)
    key = str(uuid.uuid4())
    r = staff.post(f"/sessions/{s.pk}/standby", {"client_uuid": key, "person_id": ps[0].pk})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "waiting" and r.json()["id_number_masked"].count("*") > 0
    assert staff.post(f"/sessions/{s.pk}/standby", {"client_uuid": key, "person_id": ps[0].pk}).status_code == 200
    for p in ps[1:]:
        assert staff.post(f"/sessions/{s.pk}/standby", {"person_id": p.pk}).status_code == 201
    r = staff.post(f"/sessions/{s.pk}/standby", {"person_id": ps[1].pk})
    assert r.status_code == 409 and r.json()["code"] == "standby_duplicate"
    manager = api(world.tokens["site_manager"])
    r = manager.post(f"/sessions/{s.pk}/standby/offers")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["leftover_doses"] == 2 and body["doses_on_offer"] == 2 and len(body["offers"]) == 4
    assert all(o["message_status"] == "pending" and o["seconds_left"] > 0 for o in body["offers"])
    assert body["offers"][0]["expires_at"].endswith("+08:00")
    first, second, third = (o["id"] for o in body["offers"][:3])
    assert manager.post(f"/standby/offers/{first}/confirm").json()["status"] == "confirmed"
    assert manager.post(f"/standby/offers/{second}/decline").json()["status"] == "declined"
    assert manager.post(f"/standby/offers/{third}/confirm").status_code == 200
    r = manager.post(f"/standby/offers/{body['offers'][3]['id']}/confirm")
    assert r.status_code == 409 and r.json()["code"] == "standby_full"
    listing = manager.get(f"/sessions/{s.pk}/standby").json()
    assert listing["count"] == 5 and listing["confirmed"] == 2 and listing["doses_on_offer"] == 2
    assert [e["status"] for e in listing["entries"]].count("confirmed") == 2
    assert listing["wastage_avoided"] == 0


def test_an_expired_offer_answers_409_offer_expired_in_chinese(api, world, today_session):
    s = today_session
    [p] = people(world, 1)
    api(world.tokens["vaccinator"]).post(f"/sessions/{s.pk}/standby", {"person_id": p.pk})
    [offer] = api(world.tokens["site_manager"]).post(f"/sessions/{s.pk}/standby/offers").json()["offers"]
    Offer.objects.filter(pk=offer["id"]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    r = api(world.tokens["site_manager"], language="zh-hans").post(f"/standby/offers/{offer['id']}/confirm")
    assert r.status_code == 409 and r.json()["code"] == "offer_expired"
    assert "过期" in r.json()["message"] or "失效" in r.json()["message"]


def test_bad_input_is_refused_and_writes_nothing(api, world, today_session):
    s = today_session
    staff = api(world.tokens["vaccinator"])
    [p] = people(world, 1, phone=False)
    cases = [
        (f"/sessions/{s.pk}/standby", {"person_id": p.pk}, 422, "standby_phone_required"),
        (f"/sessions/{s.pk}/standby", {"person_id": p.pk, "phone": "123"}, 400, "invalid_phone"),
        (f"/sessions/{s.pk}/standby", {"person_id": 10**9}, 404, "person_not_found"),
        ("/sessions/999999/standby", {"person_id": p.pk}, 404, "session_not_found"),
        (f"/sessions/{s.pk}/standby", {"person_id": "x"}, 422, "invalid_request"),
        (f"/sessions/{s.pk}/standby", {"person_id": p.pk, "client_uuid": "nope"}, 422, "invalid_request"),
        (f"/sessions/{s.pk}/standby", {}, 422, "invalid_request"),
        ("/standby/offers/999999/confirm", {}, 404, "offer_not_found"),
        ("/standby/offers/0/confirm", {}, 422, "invalid_request"),
    ]
    for path, body, status, code in cases:
        r = staff.post(path, body)
        assert (r.status_code, r.json()["code"]) == (status, code), (path, body, r.content)
    assert StandbyEntry.objects.count() == 0 and Message.objects.count() == 0
    r = api(world.tokens["site_manager"]).post("/sessions/999999/standby/offers")
    assert r.status_code == 404 and r.json()["code"] == "session_not_found"


def test_roles_and_areas(api, world, today_session):
    s = today_session
    [p] = people(world, 1)
    r = api(world.tokens["supply_officer"]).post(f"/sessions/{s.pk}/standby", {"person_id": p.pk})
    assert r.status_code == 403 and r.json()["code"] == "permission_denied"
    r = api(world.tokens["vaccinator_ld"]).get(f"/sessions/{s.pk}/standby")
    assert r.status_code == 404 and r.json()["code"] == "session_not_found"
    r = api(world.tokens["grid_worker"]).post(f"/sessions/{s.pk}/standby/offers")
    assert r.status_code == 403
    assert api(world.tokens["county_command"]).get(f"/sessions/{s.pk}/standby").status_code == 200
    assert api(None).get(f"/sessions/{s.pk}/standby").status_code == 401
    # The grid worker signs up a resident of their grid.
    r = api(world.tokens["grid_worker"]).post(f"/sessions/{s.pk}/standby", {"person_id": p.pk})
    assert r.status_code == 201, r.content


def test_offers_at_a_closed_session_are_refused(api, world):
    multi_dose_lot(world)
    closed = open_session(world, status="closed")
    r = api(world.tokens["site_manager"]).post(f"/sessions/{closed.pk}/standby/offers")
    assert r.status_code == 409 and r.json()["code"] == "standby_session_not_open"
