"""Contacts and doses at once (PostgreSQL: real parallel transactions): ten retries of one
contact make one attempt; contacts and doses of the same people racing leave the due table
equal to a rebuild."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

from conftest import build_world, make_person, threaded
from vaxops.outreach.models import ContactAttempt, DueEntry

THREADS = 10


def run_in_threads(work) -> list:
    return threaded(work, THREADS)


@pytest.fixture
def world(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    return build_world()


def test_ten_retries_of_one_contact_make_one_attempt(world):
    from vaxops.outreach.services import record_contact

    p = make_person(world, seq=131)
    key = uuid.uuid4()
    results = run_in_threads(lambda i: record_contact(
        client_uuid=key, person_id=p.pk, channel="phone", outcome="will_come",
        acting_user=world.users["grid_worker"], source="api")[1])
    assert sorted(results, key=str) == [False] * (THREADS - 1) + [True], results
    assert ContactAttempt.objects.count() == 1


def test_contacts_and_doses_racing_keep_the_due_table_equal_to_a_rebuild(world):
    from vaxops.outreach.duetable import rebuild
    from vaxops.outreach.services import record_contact
    from vaxops.outreach.tests.helpers import give_dose

    people = [make_person(world, seq=133 + 2 * i) for i in range(THREADS // 2)]

    def work(i):
        p = people[i // 2]
        if i % 2:
            return give_dose(world, p, dt.date(2021, 5, 1)).pk
        return record_contact(client_uuid=uuid.uuid4(), person_id=p.pk, channel="visit", outcome="away",
                              until=dt.date.today() + dt.timedelta(days=9), place="in_county",
                              acting_user=world.users["grid_worker"], source="api")[0].pk

    results = run_in_threads(work)
    assert all(isinstance(r, int) for r in results), results
    live = sorted(DueEntry.objects.values_list())
    rebuild()
    assert sorted(DueEntry.objects.values_list()) == live
    assert all(e.kind == "next" and e.hold_until is not None for e in DueEntry.objects.filter(
        person__in=people))
