"""Concurrent writers of the ledger under real parallel transactions (PostgreSQL): the balance
row locks decide, a store never goes below zero and no dose appears or disappears."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection

from conftest import SITE_STOCK, build_world, threaded
from vaxops.supply.models import StockBalance, StockEvent, Transfer, TransferLine
from vaxops.supply.reconcile import check_stock
from vaxops.supply.services import TransferLineIn, dispatch_transfer, receive_shipment

THREADS = 20

pytestmark = pytest.mark.skipif("postgres" not in __import__("os").environ.get("VAXOPS_DATABASE_URL", ""),
                                reason="row locks under parallel transactions: PostgreSQL only")


def run_in_threads(work) -> list:
    return threaded(work, THREADS)


@pytest.fixture
def world(transactional_db):
    return build_world()


def test_twenty_concurrent_transfers_never_take_a_store_below_zero_and_conserve_the_total(world):
    assert connection.vendor == "postgresql"
    kd, bibp = world.stores["KD-CDC"], world.lots["bibp"]
    # 20 × 700 = 14,000 wanted from 10,000: exactly 14 fit, to two children.
    results = run_in_threads(lambda i: dispatch_transfer(
        client_uuid=uuid.uuid4(), from_store_code="KD-CDC", to_store_code=("KD-MASS", "KD-THC")[i % 2],
        lines=[TransferLineIn("B2021001", 700)], acting_user=world.users["supply_officer"], source="api"))
    sent = [r for r in results if isinstance(r, tuple)]
    assert len(sent) == 14, results
    assert sorted(r for r in results if not isinstance(r, tuple)) == ["insufficient_stock"] * 6
    left = StockBalance.objects.get(store=kd, lot=bibp).on_hand
    in_transit = sum(TransferLine.objects.filter(transfer__from_store=kd).values_list("doses", flat=True))
    assert left == SITE_STOCK - 14 * 700 >= 0
    assert left + in_transit == SITE_STOCK
    assert Transfer.objects.count() == 14 and check_stock().clean


def test_twenty_concurrent_receipts_of_a_new_lot_add_up(world):
    results = run_in_threads(lambda i: receive_shipment(
        client_uuid=uuid.uuid4(), store_code="KD-CDC", product_code="BIBP", lot_number="N2021NEW",
        expiry_date=dt.date(2030, 1, 1), doses=100, arrival_temperature_c=5, acting_user=world.users["supply_officer"],
        source="api"))
    assert all(isinstance(r, tuple) and not r[1] for r in results), results
    assert StockBalance.objects.get(store=world.stores["KD-CDC"], lot__lot_number="N2021NEW").on_hand == 2000
    assert check_stock().clean


def test_twenty_concurrent_replays_of_one_receipt_write_it_once(world):
    key = uuid.uuid4()
    results = run_in_threads(lambda i: receive_shipment(
        client_uuid=key, store_code="KD-CDC", product_code="BIBP", lot_number="N2021ONE",
        expiry_date=dt.date(2030, 1, 1), doses=100, arrival_temperature_c=5, acting_user=world.users["supply_officer"],
        source="api"))
    assert all(isinstance(r, tuple) for r in results), results
    assert sum(1 for _e, replayed in results if not replayed) == 1
    assert StockEvent.objects.filter(client_uuid=key).count() == 1
    assert StockBalance.objects.get(store=world.stores["KD-CDC"], lot__lot_number="N2021ONE").on_hand == 100
