"""Twenty people confirm at once: exactly the doses on offer are confirmed, never one more.

Runs on both engines (threads with their own connections); on PostgreSQL the confirmations are
real parallel transactions waiting on the round's row lock, on SQLite serialised writes.
"""

from __future__ import annotations

import pytest
from django.db import connection

from conftest import build_world, threaded
from vaxops.outbox.models import Message
from vaxops.outbox.services import enqueue
from vaxops.standby import services
from vaxops.standby.models import Offer, OfferStatus, StandbyEntry, StandbyRound
from vaxops.standby.tests.helpers import at, give, multi_dose_lot, open_session, people

THREADS = 20


def run_in_threads(work) -> list:
    return threaded(work, THREADS)


@pytest.fixture
def offered(transactional_db):
    """3 leftover doses offered to 20 people (factor 20/3 so each of them holds an open offer)."""
    from django.test import override_settings

    world = build_world()
    multi_dose_lot(world)
    session = open_session(world)
    for p in people(world, 2, start=990):
        give(world, p, at(14))
    for i, p in enumerate(people(world, THREADS)):
        services.sign_up(session, p, acting_user=world.users["vaccinator"], at=at(8, i))
    with override_settings(VAXOPS_STANDBY_OFFER_FACTOR=THREADS / 3):
        made = services.make_offers(session, acting_user=world.users["site_manager"], at=at(16, 30))
    assert made.leftover == 3 and len(made.offers) == THREADS
    return world, session, made.offers


def test_twenty_concurrent_confirmations_never_confirm_past_the_count(offered):
    world, session, offers = offered
    results = run_in_threads(lambda i: services.confirm_offer(
        offers[i].pk, acting_user=world.users["site_manager"], at=at(16, 31)).status)
    assert sorted(map(str, results)) == ["confirmed"] * 3 + ["standby_full"] * (THREADS - 3), (
        connection.vendor, results)
    assert StandbyRound.objects.get(session=session).confirmed == 3
    assert Offer.objects.filter(status=OfferStatus.CONFIRMED).count() == 3
    assert StandbyEntry.objects.filter(status="confirmed").count() == 3


def test_twenty_concurrent_confirmations_of_one_offer_take_one_dose(offered):
    world, session, offers = offered
    results = run_in_threads(lambda i: services.confirm_offer(
        offers[0].pk, acting_user=world.users["site_manager"], at=at(16, 31)).status)
    assert results == ["confirmed"] * THREADS, results
    assert StandbyRound.objects.get(session=session).confirmed == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_enqueues_of_one_reason_make_one_message():
    results = run_in_threads(lambda i: enqueue(reason="booking-day-before:1", phone="13900000001",
                                               text=f"提醒 {i}", kind="booking_reminder").pk)
    assert len(set(results)) == 1 and all(isinstance(r, int) for r in results), results
    assert Message.objects.count() == 1
