"""A status change and a dispatch in flight, on PostgreSQL: the change waits for the dispatch's
balance locks, so the dispatch commits first and every later one sees the new status."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction

from conftest import build_world
from vaxops.core.errors import VaxopsError
from vaxops.supply import ledger, lots
from vaxops.supply.ledger import Line
from vaxops.supply.models import Lot, LotStatus, StockLine

AT = dt.datetime(2021, 5, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")


@pytest.fixture
def world(transactional_db):
    return build_world()


def _dispatch_line(world):
    src, dst, lot = world.stores["KD-CDC"], world.stores["KD-MASS"], world.lots["bibp"]
    return [Line(src.pk, lot.pk, -10, "transfer_out", destination_store_id=dst.pk)]


def test_quarantine_waits_for_the_dispatch_in_flight_and_the_next_one_is_refused(world):
    locked, finish, changed = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def dispatch_in_flight():
        try:
            with transaction.atomic():
                ledger.post(_dispatch_line(world), reason="transfer_out", user=None, occurred_at=AT)
                locked.set()
                finish.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            connection.close()

    def quarantine():
        try:
            lots.quarantine_lot(lot_number="B2021001", reason="notice", acting_user=world.users["supervisor"],
                                source="cli")
            changed.set()
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
        finally:
            connection.close()

    sender = threading.Thread(target=dispatch_in_flight)
    sender.start()
    assert locked.wait(10)
    changer = threading.Thread(target=quarantine)
    changer.start()
    time.sleep(0.5)
    assert not changed.is_set()  # waiting on the balance the dispatch holds
    finish.set()
    sender.join(10)
    changer.join(10)
    assert failures == [] and changed.is_set(), [(type(f).__name__, str(f).replace(chr(10), ' | ')) for f in failures]
    assert StockLine.objects.filter(reason__code="transfer_out").count() == 1
    assert Lot.objects.get(pk=world.lots["bibp"].pk).status == LotStatus.QUARANTINED
    with pytest.raises(VaxopsError) as exc, transaction.atomic():
        ledger.post(_dispatch_line(world), reason="transfer_out", user=None, occurred_at=AT)
    assert exc.value.code == "lot_quarantined"
