"""The appointments API: the contract's routes and fields, 201 / 409 slot_full, cancel."""

from __future__ import annotations

import uuid

import pytest

from vaxops.appointments.models import Appointment
from vaxops.appointments.tests.helpers import at, give_now, person, session, slotted

pytestmark = pytest.mark.django_db


def body(p, s, *, hour=8, minute=0, dose=1, **extra):
    return {"client_uuid": str(uuid.uuid4()), "person_id": p.pk, "session_id": s.pk,
            "starts_at": at(s.date, hour, minute).isoformat(), "dose_number": dose, **extra}


def test_post_and_get_slots(api, world):
    s = session(world)
    manager = api(world.tokens["site_manager"])
    r = manager.post(f"/sessions/{s.pk}/slots", {"minutes": 30, "capacity": {"1": 3, "2": 1}})
    assert r.status_code == 200, r.content
    assert len(r.json()) == 8
    r = api(world.tokens["vaccinator"]).get(f"/sessions/{s.pk}/slots")
    assert r.status_code == 200
    first = r.json()[0]
    assert first["starts_at"].startswith(f"{s.date.isoformat()}T08:00:00")
    assert first["capacity"] == {"1": 3, "2": 1} and first["booked"] == {"1": 0, "2": 0}
    # A vaccinator may not set slots; a Luding manager does not see the session.
    assert api(world.tokens["vaccinator"]).post(f"/sessions/{s.pk}/slots",
                                                {"minutes": 30, "capacity": {"1": 3}}).status_code == 403
    assert api(world.tokens["site_manager_ld"]).get(f"/sessions/{s.pk}/slots").status_code == 404
    r = manager.post(f"/sessions/{s.pk}/slots", {"minutes": 7, "capacity": {"1": 3}})
    assert r.status_code == 422 and r.json()["code"] == "slot_minutes_invalid"


def test_book_201_then_409_slot_full_and_cancel(api, world):
    s = slotted(world, capacity={1: 1})
    v = api(world.tokens["vaccinator"])
    p1, p2 = person(world, 601), person(world, 602)
    first = body(p1, s)
    r = v.post("/appointments", first)
    assert r.status_code == 201, r.content
    a = r.json()
    assert a["status"] == "booked" and a["dose_number"] == 1 and a["person_id"] == p1.pk
    assert v.post("/appointments", first).status_code == 200  # a replay
    r = v.post("/appointments", body(p2, s))
    assert r.status_code == 409 and r.json()["code"] == "slot_full"
    assert r.json()["detail"]["dose_number"] == 1
    assert v.get(f"/sessions/{s.pk}/slots").json()[0]["booked"] == {"1": 1}
    r = v.post(f"/appointments/{a['id']}/cancel", {"reason": "ill"})
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert v.get(f"/sessions/{s.pk}/slots").json()[0]["booked"] == {"1": 0}
    assert v.post("/appointments", body(p2, s)).status_code == 201
    # Out of area: not found.
    assert api(world.tokens["vaccinator_ld"]).post(f"/appointments/{a['id']}/cancel").status_code == 404
    assert api(world.tokens["vaccinator_ld"]).get(f"/appointments/{a['id']}").status_code == 404


def test_booking_a_dose_not_due_gives_the_reasons(api, world):
    p = person(world, 603)
    give_now(world, p)
    s = slotted(world, days=3)
    r = api(world.tokens["vaccinator"]).post("/appointments", body(p, s, dose=2))
    assert r.status_code == 422 and r.json()["code"] == "booking_not_eligible"
    detail = r.json()["detail"]
    assert detail["reasons"] and detail["earliest_date"] and detail["reason_messages"]
    r = api(world.tokens["vaccinator"], "zh-hans").post("/appointments", body(p, s, dose=2))
    assert "不能预约" in r.json()["message"] or "预约" in r.json()["message"]
    assert Appointment.objects.count() == 0


def test_household_and_reschedule(api, world):
    s = slotted(world, capacity={1: 3})
    other = slotted(world, days=4, capacity={1: 3})
    v = api(world.tokens["vaccinator"])
    family = [person(world, 610 + i) for i in range(3)]
    r = v.post("/appointments/household", {"client_uuid": str(uuid.uuid4()), "session_id": s.pk,
                                           "starts_at": at(s.date, 9).isoformat(),
                                           "members": [{"person_id": p.pk, "dose_number": 1} for p in family]})
    assert r.status_code == 201, r.content
    items = r.json()["items"]
    assert len(items) == 3 and len({i["household_uuid"] for i in items}) == 1
    r = v.post(f"/appointments/{items[0]['id']}/reschedule", {"client_uuid": str(uuid.uuid4()), "session_id": other.pk,
                                                              "starts_at": at(other.date, 10).isoformat()})
    assert r.status_code == 201, r.content
    assert v.get(f"/appointments/{items[0]['id']}").json()["status"] == "rescheduled"
    listed = v.get(f"/sessions/{other.pk}/appointments").json()
    assert listed["count"] == 1 and listed["items"][0]["person_id"] == family[0].pk
