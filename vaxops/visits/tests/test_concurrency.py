"""Concurrent check-ins and steps: tickets stay 1…N without gaps or repeats, and one visit gets
one dose whatever the number of desks pressing at once.

Runs on both engines; on PostgreSQL the session row's lock and the unique (session, ticket)
index are exercised by real parallel transactions, on SQLite the serialised write transactions.
"""

from __future__ import annotations

import uuid

import pytest

from conftest import build_world
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.tests.test_concurrency import THREADS, run_in_threads
from vaxops.visits import services as sv
from vaxops.visits.models import Visit

from .conftest import at, open_session, register_many


@pytest.fixture
def setup(transactional_db):
    world = build_world()
    return world, open_session(world.sites["KD-MASS"])


def test_twenty_desks_checking_in_at_once_get_tickets_one_to_twenty(setup):
    world, session = setup
    persons = register_many(world, THREADS)
    results = run_in_threads(lambda i: sv.check_in(
        session, persons[i], client_uuid=uuid.uuid4(), acting_user=world.users["vaccinator"], at=at(9)).ticket)
    assert sorted(results) == list(range(1, THREADS + 1)), results
    assert sorted(Visit.objects.values_list("ticket", flat=True)) == list(range(1, THREADS + 1))


def test_one_submission_retried_by_twenty_threads_is_one_visit(setup):
    world, session = setup
    (person,) = register_many(world, 1)
    key = uuid.uuid4()
    results = run_in_threads(lambda i: sv.check_in(
        session, person, client_uuid=key, acting_user=world.users["vaccinator"], at=at(9)).pk)
    assert len(set(results)) == 1 and isinstance(results[0], int), results
    assert Visit.objects.count() == 1


def test_twenty_vaccinations_of_one_visit_give_one_dose(setup):
    world, session = setup
    (person,) = register_many(world, 1)
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=uuid.uuid4(), acting_user=user, at=at(9))
    sv.screen(v, outcome="pass", acting_user=user, at=at(9, 5))
    results = run_in_threads(lambda i: sv.vaccinate(
        v.pk, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10)).pk)
    assert DoseRecord.objects.count() == 1
    dose = DoseRecord.objects.get()
    assert Visit.objects.get().dose_id == dose.pk
    assert results.count(dose.pk) >= 1
    assert all(r == dose.pk or r in {"visit_already_vaccinated", "dose_already_recorded", "dose_too_early",
                                     "not_eligible"} for r in results), results
