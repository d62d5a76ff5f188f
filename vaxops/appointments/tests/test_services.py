"""Slots, bookings, households, cancelling, rescheduling, no-shows at the close, reminders."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxops.appointments import reminders, services
from vaxops.appointments.models import Appointment, SlotCapacity, reminder_reason
from vaxops.appointments.tests.helpers import at, book, give_now, person, session, slotted, today
from vaxops.core.audit import AuditEvent
from vaxops.core.errors import VaxopsError
from vaxops.outbox.models import Message
from vaxops.outbox.senders import RecordingSender
from vaxops.outbox.services import send_pending

pytestmark = pytest.mark.django_db


def caps(s, dose=1):
    return {c.slot.starts_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%H:%M"): (c.booked, c.capacity)
            for c in SlotCapacity.objects.filter(slot__session=s, dose_number=dose).select_related("slot")}


def test_slots_cut_the_hours_with_a_capacity_per_dose_number(world):
    s = session(world)
    slots = services.set_slots(s, minutes=30, capacity={"1": 20, "2": 10}, acting_user=world.users["site_manager"])
    assert len(slots) == 8  # 08:00–12:00
    rows = services.slots_of(s)
    assert rows[0]["starts_at"].strftime("%H:%M") == "08:00" and rows[-1]["ends_at"].strftime("%H:%M") == "12:00"
    assert rows[0]["capacity"] == {"1": 20, "2": 10} and rows[0]["booked"] == {"1": 0, "2": 0}
    # Setting again changes the capacity of the same slots, never below what is booked.
    book(world, s, person(world, 300))
    services.set_slots(s, minutes=30, capacity={1: 5, 2: 10}, acting_user=world.users["site_manager"])
    assert caps(s)["08:00"] == (1, 5)
    with pytest.raises(VaxopsError) as exc:
        services.set_slots(s, minutes=30, capacity={1: 0}, acting_user=world.users["site_manager"])
    assert exc.value.code == "slot_capacity_below_booked"
    for bad, code in [({"minutes": 7, "capacity": {1: 1}}, "slot_minutes_invalid"),
                      ({"minutes": 30, "capacity": {9: 1}}, "slot_capacity_invalid"),
                      ({"minutes": 30, "capacity": {1: -1}}, "slot_capacity_invalid"),
                      ({"minutes": 15, "capacity": {1: 1}}, "slot_overlap"),
                      ({"minutes": 30, "capacity": {1: 1}, "start": dt.time(6)}, "slot_outside_hours")]:
        with pytest.raises(VaxopsError) as exc:
            services.set_slots(s, acting_user=world.users["site_manager"], **bad)
        assert exc.value.code == code, bad
    assert AuditEvent.objects.filter(action="slots.set").count() == 2


def test_booking_takes_capacity_and_a_full_slot_answers_slot_full(world):
    s = slotted(world, capacity={1: 2, 2: 1})
    a1, a2 = book(world, s, person(world, 301)), book(world, s, person(world, 302))
    assert caps(s)["08:00"] == (2, 2) and a1.status == a2.status == "booked"
    third = person(world, 303)
    with pytest.raises(VaxopsError) as exc:
        book(world, s, third)
    assert exc.value.code == "slot_full" and exc.value.status == 409
    assert Appointment.objects.count() == 2 and caps(s)["08:00"] == (2, 2)
    # The next slot still has room.
    assert book(world, s, third, minute=30).slot.starts_at == at(s.date, 8, 30)


def test_a_replayed_booking_answers_the_first_and_a_person_is_booked_once_per_dose(world):
    s = slotted(world)
    p = person(world, 304)
    key = uuid.uuid4()
    a, created = services.book(client_uuid=key, person=p, session=s, starts_at=at(s.date, 8), dose_number=1,
                               acting_user=world.users["vaccinator"])
    again, created_again = services.book(client_uuid=key, person=p, session=s, starts_at=at(s.date, 8),
                                         dose_number=1, acting_user=world.users["vaccinator"])
    assert created and not created_again and again.pk == a.pk
    with pytest.raises(VaxopsError) as exc:
        book(world, s, p, minute=30)
    assert exc.value.code == "already_booked" and exc.value.detail["appointment_id"] == a.pk
    assert caps(s)["08:00"] == (1, 2) and caps(s)["08:30"] == (0, 2)


def test_booking_a_dose_the_person_may_not_have_that_day_gives_the_reasons(world):
    p = person(world, 305)
    give_now(world, p)  # dose 1 today: dose 2 of BIBP from 21 days on
    early = slotted(world, days=5)
    with pytest.raises(VaxopsError) as exc:
        book(world, early, p, dose=2)
    assert exc.value.code == "booking_not_eligible" and exc.value.status == 422
    assert exc.value.detail["reasons"] == ["min_interval"]
    assert exc.value.detail["earliest_date"] == (today() + dt.timedelta(days=21)).isoformat()
    assert exc.value.detail["reason_messages"]
    # Dose 1 again is not the dose the person is due for.
    with pytest.raises(VaxopsError) as exc:
        book(world, early, p, dose=1)
    assert exc.value.code == "booking_not_eligible" and exc.value.detail["next_dose_number"] == 2
    assert exc.value.detail["reasons"] == ["dose_number_mismatch"]
    # From the day it falls due, dose 2 is bookable.
    due = slotted(world, days=21)
    assert book(world, due, p, dose=2).dose_number == 2
    assert Appointment.objects.count() == 1


def test_a_household_is_booked_together_or_not_at_all(world):
    s = slotted(world, capacity={1: 3, 2: 1})
    family = [person(world, 310 + i) for i in range(3)]
    rows, created = services.book_household(
        client_uuid=uuid.uuid4(), members=[services.Member(p, 1) for p in family], session=s,
        starts_at=at(s.date, 8), acting_user=world.users["vaccinator"])
    assert created and len(rows) == 3 and len({r.household_uuid for r in rows}) == 1
    assert caps(s)["08:00"] == (3, 3)
    # Four people where three places are left: nobody is booked.
    more = [person(world, 320 + i) for i in range(4)]
    with pytest.raises(VaxopsError) as exc:
        services.book_household(client_uuid=uuid.uuid4(), members=[services.Member(p, 1) for p in more], session=s,
                                starts_at=at(s.date, 8, 30), acting_user=world.users["vaccinator"])
    assert exc.value.code == "slot_full"
    assert caps(s)["08:30"] == (0, 3) and Appointment.objects.count() == 3
    # One member not eligible refuses the household.
    give_now(world, more[0])
    with pytest.raises(VaxopsError) as exc:
        services.book_household(client_uuid=uuid.uuid4(), members=[services.Member(p, 1) for p in more[:3]],
                                session=s, starts_at=at(s.date, 8, 30), acting_user=world.users["vaccinator"])
    assert exc.value.code == "booking_not_eligible" and Appointment.objects.count() == 3


def test_cancel_gives_the_place_back_and_suppresses_the_reminder(world):
    s = slotted(world, days=1, capacity={1: 1})
    p = person(world, 330)
    a = book(world, s, p)
    reminders.generate_day_before(today())
    assert Message.objects.get(reason=reminder_reason(a.pk)).status == "pending"
    cancelled = services.cancel(a, acting_user=world.users["vaccinator"], reason="travelling")
    assert cancelled.status == "cancelled" and cancelled.reason == "travelling"
    assert Message.objects.get(reason=reminder_reason(a.pk)).status == "suppressed"
    assert caps(s)["08:00"] == (0, 1)
    assert services.cancel(a, acting_user=world.users["vaccinator"]).status == "cancelled"  # unchanged
    assert AuditEvent.objects.filter(action="appointment.cancel").count() == 1
    # The freed place can be booked again, and the person may book again.
    assert book(world, s, p).status == "booked"


def test_reschedule_moves_the_booking_explicitly(world):
    s = slotted(world, days=1, capacity={1: 1})
    other = slotted(world, days=3, capacity={1: 1})
    p = person(world, 331)
    a = book(world, s, p)
    reminders.generate_day_before(today())
    new = services.reschedule(a, client_uuid=uuid.uuid4(), session=other, starts_at=at(other.date, 9),
                              acting_user=world.users["vaccinator"])
    a.refresh_from_db()
    assert a.status == "rescheduled" and a.replaced_by_id == new.pk and new.status == "booked"
    assert caps(s)["08:00"] == (0, 1) and caps(other)["09:00"] == (1, 1)
    assert Message.objects.get(reason=reminder_reason(a.pk)).status == "suppressed"
    event = AuditEvent.objects.get(action="appointment.reschedule")
    assert event.before["appointment_id"] == a.pk
    # Into a full slot: refused, nothing moved.
    q = book(world, s, person(world, 332))
    with pytest.raises(VaxopsError) as exc:
        services.reschedule(q, client_uuid=uuid.uuid4(), session=other, starts_at=at(other.date, 9),
                            acting_user=world.users["vaccinator"])
    assert exc.value.code == "slot_full"
    q.refresh_from_db()
    assert q.status == "booked" and caps(s)["08:00"] == (1, 1)


def test_no_shows_are_marked_at_the_sessions_close(world):
    from vaxops.sites.models import Session
    from vaxops.sites.sessions import close_session

    s = Session.objects.select_related("site__division").get(site=world.sites["KD-MASS"], date=today(),
                                                             status="open")
    services.set_slots(s, minutes=60, capacity={1: 5}, start=dt.time(8), end=dt.time(10),
                       acting_user=world.users["site_manager"])
    came, missed = person(world, 340), person(world, 341)
    booked_at = at(today(), 0) - dt.timedelta(days=1)
    a1 = book(world, s, came, at=booked_at)
    a2 = book(world, s, missed, at=booked_at)
    give_now(world, came)
    closed = close_session(s, acting_user=world.users["site_manager"])
    a1.refresh_from_db()
    a2.refresh_from_db()
    assert (a1.status, a2.status) == ("attended", "no_show")
    assert closed.figures["no_shows"] == 1 and closed.figures["appointments_attended"] == 1


def test_day_before_reminders_are_made_once_and_suppressed_after_the_dose(world):
    s = slotted(world, days=1, capacity={1: 5})
    p1, p2, quiet = person(world, 350), person(world, 351), person(world, 352, phone=False)
    a1, a2 = book(world, s, p1), book(world, s, p2, minute=30)
    book(world, s, quiet)
    counts = reminders.generate_day_before(today())
    assert counts == {"bookings": 3, "made": 2, "no_phone": 1}
    assert reminders.generate_day_before(today())["made"] == 0  # never made twice
    text = Message.objects.get(reason=reminder_reason(a1.pk)).text
    assert "明天" in text and "08:00" in text and s.site.name_zh in text
    # p1 gets the dose today at a desk (a path that does not call ``suppress``).
    give_now(world, p1)
    RecordingSender.calls = []
    with override_settings(VAXOPS_MESSAGE_SENDER="vaxops.outbox.senders.RecordingSender"):
        done = send_pending(at=at(today(), 23))
    assert done["sent"] == 1 and done["suppressed"] == 1
    assert [c[0] for c in RecordingSender.calls] == [reminder_reason(a2.pk)]
    assert Message.objects.get(reason=reminder_reason(a1.pk)).status == "suppressed"


def test_the_validity_check_reads_the_booking_state(world):
    s = slotted(world, days=1, capacity={1: 5})
    a = book(world, s, person(world, 353))
    reasons = [reminder_reason(a.pk), "booking-day-before:999999", "booking-day-before:x"]
    assert reminders.still_holding(reasons) == {reminder_reason(a.pk)}
    Appointment.objects.filter(pk=a.pk).update(status="cancelled")
    assert reminders.still_holding(reasons) == set()


def test_booking_rules_refuse_and_write_nothing(world):
    s = slotted(world)
    p = person(world, 360)
    for kwargs, code in [({"hour": 7}, "slot_not_found"), ({"dose": 3}, "booking_not_eligible")]:
        with pytest.raises(VaxopsError) as exc:
            book(world, s, p, **kwargs)
        assert exc.value.code == code
    closed = slotted(world, days=4)
    closed.status = "closed"
    closed.save()
    with pytest.raises(VaxopsError) as exc:
        book(world, closed, p)
    assert exc.value.code == "booking_session_closed"
    # Out of area: a Luding vaccinator cannot book at Kangding.
    with pytest.raises(VaxopsError) as exc:
        book(world, s, p, role="vaccinator_ld")
    assert exc.value.code in {"session_not_found", "person_not_found"}
    assert Appointment.objects.count() == 0


def test_a_grid_worker_books_their_residents_in_their_county(world):
    s = slotted(world)
    resident = person(world, 370)  # home 513301001, the grid worker's township
    a = book(world, s, resident, role="grid_worker")
    assert a.booked_by == world.users["grid_worker"]
    outsider = person(world, 371, county="513322")
    with pytest.raises(VaxopsError):
        book(world, s, outsider, role="grid_worker")


@settings(max_examples=25, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.tuples(st.sampled_from(["book", "book", "cancel"]), st.integers(0, 5), st.integers(0, 1)),
                min_size=1, max_size=14),
       st.integers(0, 3))
def test_booked_always_equals_live_bookings_and_never_passes_capacity(world, steps, cap):
    """Any sequence of bookings and cancellations: each slot's booked count is its live
    bookings, never above its capacity."""
    from django.db import transaction

    sid = transaction.savepoint()
    try:
        s = slotted(world, capacity={1: cap}, minutes=60)
        people = [person(world, 400 + i) for i in range(6)]
        live: dict[int, Appointment] = {}
        for op, who, hour in steps:
            if op == "book":
                try:
                    live[who] = book(world, s, people[who], hour=8 + hour)
                except VaxopsError as exc:
                    assert exc.code in {"slot_full", "already_booked"}
            elif who in live:
                services.cancel(live.pop(who), acting_user=world.users["vaccinator"])
        for c in SlotCapacity.objects.filter(slot__session=s):
            n = Appointment.objects.filter(slot=c.slot, dose_number=c.dose_number, status="booked").count()
            assert c.booked == n <= c.capacity
    finally:
        transaction.savepoint_rollback(sid)


def test_the_reminders_command(world):
    from io import StringIO

    from django.core.management import call_command

    s = slotted(world, days=1, capacity={1: 5})
    book(world, s, person(world, 380))
    out = StringIO()
    call_command("booking_reminders", "--date", today().isoformat(), stdout=out)
    assert "reminders made 1" in out.getvalue()
    call_command("booking_reminders", "--date", today().isoformat(), stdout=out)
    assert "reminders made 0" in out.getvalue()
