"""Two uploads of the same warm readings at once open one excursion, not two; two reviews of
one excursion at once: one wins, the other is told it is closed, and stock is written off once."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection

from conftest import build_world
from vaxops.core.errors import VaxopsError
from vaxops.supply import coldchain
from vaxops.supply.models import Excursion, StockEvent

T0 = dt.datetime(2021, 5, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def world(transactional_db):
    return build_world()


def run_together(*calls):
    """Run the calls in threads started together; returns each call's result or error code."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def work(i, call):
        try:
            barrier.wait()
            results[i] = call()
        except VaxopsError as exc:
            results[i] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_uploads_at_once_open_one_excursion(world):
    manual = [(T0 + dt.timedelta(hours=h), 9.0) for h in range(0, 12, 2)] + [(T0 + dt.timedelta(hours=12), 5.0)]
    logger = [(T0 + dt.timedelta(hours=h, minutes=30), 9.5) for h in range(0, 12)]

    def upload(readings, kind):
        return lambda: coldchain.record_temperatures(store_code="KD-MASS", readings=readings, kind=kind,
                                                     acting_user=world.users["site_manager"], source="api")

    run_together(upload(manual, "manual"), upload(logger, "logger"))
    assert Excursion.objects.filter(store__code="KD-MASS", rule="fridge_heat").count() == 1


def test_two_reviews_at_once_one_wins(world):
    readings = [(T0 + dt.timedelta(hours=h), 9.0) for h in range(11)] + [(T0 + dt.timedelta(hours=11), 5.0)]
    _, [e] = coldchain.record_temperatures(store_code="KD-MASS", readings=readings, kind="logger",
                                           acting_user=world.users["site_manager"], source="api")

    def discard():
        return coldchain.review_excursion(excursion_id=e.pk, decision="discard", note="VVM stage 3",
                                          acting_user=world.users["supervisor"], source="api").status

    results = run_together(discard, discard)
    assert sorted(results) == ["discarded", "excursion_closed"]
    assert StockEvent.objects.filter(reason__code="cold_chain_failure").count() == 1
