"""The demo's bookings for the coming days, at the test scale (one build for the module)."""

from __future__ import annotations

import pytest
from django.utils import timezone

from vaxops.appointments.models import Appointment, SlotCapacity
from vaxops.campaign.services import TZ
from vaxops.outbox.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def demo_built(django_db_setup, django_db_blocker):
    from vaxops.campaign.tests.conftest import build_once

    yield from build_once(django_db_blocker, scale=0.002, seed=7)


def test_the_coming_days_have_slots_and_bookings_through_the_service(demo_built):
    from vaxops.core.audit import AuditEvent

    figures = demo_built.later["appointments"]
    print("appointments phase seconds", demo_built.phases.get("appointments"), figures)
    today = timezone.now().astimezone(TZ).date()
    assert figures["sessions_with_slots"] > 0 and figures["bookings"] > 10 and figures["households"] >= 1
    booked = Appointment.objects.filter(status="booked")
    assert booked.count() == figures["live"] > 0
    assert all(a.session.date > today for a in booked.select_related("session"))
    assert {1, 2} <= set(booked.values_list("dose_number", flat=True))
    # Capacity counts equal the live bookings, never above capacity.
    for c in SlotCapacity.objects.filter(booked__gt=0):
        assert c.booked == Appointment.objects.filter(slot=c.slot, dose_number=c.dose_number,
                                                      status="booked").count() <= c.capacity
    assert Appointment.objects.filter(status="cancelled").count() == figures["cancelled"] == 1
    assert AuditEvent.objects.filter(action__startswith="appointment.").count() >= figures["bookings"] // 2
    # Tomorrow's reminders are waiting in the outbox, one per booking with a phone.
    tomorrow = booked.filter(session__date=today + __import__("datetime").timedelta(days=1)).exclude(phone="")
    assert Message.objects.filter(kind="booking_reminder", status="pending").count() == tomorrow.count() > 0


def test_the_demo_guide_points_to_the_booking_grid(demo_built):
    from vaxops.campaign.demo_guide import where_to_look

    rows = [r for r in where_to_look() if "/appointments/sessions/" in r[1]]
    assert rows and rows[0][2] == "county_command"
