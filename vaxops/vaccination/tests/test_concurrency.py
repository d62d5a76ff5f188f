"""Concurrent submissions: the database decides, exactly one dose is recorded.

Runs on both engines; on PostgreSQL it exercises row locks and the unique index under real
parallel transactions, on SQLite the serialised write transactions.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

from conftest import build_world, make_person, threaded
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

THREADS = 20
AT = dt.datetime.fromisoformat("2021-05-10T10:00:00+08:00")


def run_in_threads(work) -> list:
    return threaded(work, THREADS)


@pytest.fixture
def setup(transactional_db):
    world = build_world()
    return world, make_person(world)


def test_twenty_threads_recording_dose_one_for_one_person_record_one(setup):
    world, person = setup
    results = run_in_threads(
        lambda i: record_dose(
            client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
            site_code="KD-MASS", administered_at=AT + dt.timedelta(seconds=i),
            acting_user=world.users["vaccinator"], source="api",
        )
    )
    created = [r for r in results if isinstance(r, tuple) and r[1]]
    losers = [r for r in results if not isinstance(r, tuple)]
    assert len(created) == 1, results
    assert losers == ["dose_already_recorded"] * (THREADS - 1), (connection.vendor, results)
    assert DoseRecord.objects.filter(person=person).count() == 1


def test_twenty_threads_replaying_one_client_uuid_record_one(setup):
    world, person = setup
    client_uuid = uuid.uuid4()
    results = run_in_threads(
        lambda i: record_dose(
            client_uuid=client_uuid, person_id=person.pk, product_code="BIBP", lot_number="B2021001",
            site_code="KD-MASS", administered_at=AT, acting_user=world.users["vaccinator"], source="api",
        )
    )
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(1 for _, created in results if created) == 1
    assert len({dose.pk for dose, _ in results}) == 1
    assert DoseRecord.objects.count() == 1
