"""Twenty people book the last places of one slot at once: exactly the capacity is booked,
never one more (PostgreSQL: real parallel transactions waiting on the capacity row's lock)."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from conftest import build_world, threaded
from vaxops.appointments import services
from vaxops.appointments.models import Appointment, SlotCapacity
from vaxops.appointments.tests.helpers import at, person, slotted

THREADS = 20
CAPACITY = 5

pytestmark = pytest.mark.skipif("connection.vendor != 'postgresql'", reason="concurrency is tested on PostgreSQL")


def run_in_threads(work) -> list:
    return threaded(work, THREADS)


@pytest.fixture
def crowd(transactional_db):
    world = build_world()
    s = slotted(world, capacity={1: CAPACITY})
    return world, s, [person(world, 500 + i) for i in range(THREADS)]


def test_twenty_concurrent_bookings_of_one_slot_never_pass_its_capacity(crowd):
    world, s, people = crowd
    results = run_in_threads(lambda i: services.book(
        client_uuid=uuid.uuid4(), person=people[i], session=s.pk, starts_at=at(s.date, 8), dose_number=1,
        acting_user=world.users["vaccinator"])[0].status)
    assert sorted(map(str, results)) == ["booked"] * CAPACITY + ["slot_full"] * (THREADS - CAPACITY), (
        connection.vendor, results)
    assert SlotCapacity.objects.get(slot__session=s, slot__starts_at=at(s.date, 8), dose_number=1).booked == CAPACITY
    assert Appointment.objects.filter(status="booked").count() == CAPACITY


def test_twenty_concurrent_bookings_of_one_person_book_once(crowd):
    world, s, people = crowd
    results = run_in_threads(lambda i: services.book(
        client_uuid=uuid.uuid4(), person=people[0], session=s.pk, starts_at=at(s.date, 8 + i % 4), dose_number=1,
        acting_user=world.users["vaccinator"])[0].status)
    assert sorted(map(str, results)) == ["already_booked"] * (THREADS - 1) + ["booked"], results
    assert Appointment.objects.count() == 1
    assert sum(SlotCapacity.objects.values_list("booked", flat=True)) == 1
