"""The dose path's stock write (docs/supply.md "Doses draw down stock"): a batch of single-dose
lots decides on the balances read with its lots, before its transaction, and moves them by one
conditional update after its decisions. Whatever moved in between, a balance never goes below
zero, held stock is never drawn, the batch posts one event, and a refused update sends the batch
round again with the balances locked from the start."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection, transaction
from django.db.models.signals import post_save

from conftest import make_person, stock
from vaxops.catalog.models import Product
from vaxops.supply import ledger
from vaxops.supply.dosestock import FOLD_MAX, DoseStock
from vaxops.supply.models import Lot, StockBalance, StockEvent, StockLine, Store
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.models import DoseRecord

pytestmark = pytest.mark.django_db
AT = dt.datetime(2021, 5, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def item(person, *, lot, site="KD-MASS", product="BIBP") -> DoseItem:
    return DoseItem(client_uuid=uuid.uuid4(), product_code=product, lot_number=lot, site_code=site,
                    administered_at=AT, person_id=person.pk)


@pytest.fixture
def lot(world):
    lot = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number="B2021500",
                             expiry_date=dt.date(2030, 1, 1))
    stock(world, "KD-MASS", lot, 5)
    return lot


def balance(world, lot) -> StockBalance:
    return StockBalance.objects.get(store=world.stores["KD-MASS"], lot=lot)


@pytest.fixture
def meanwhile(monkeypatch):
    """``meanwhile(change)``: ``change()`` runs once, after the batch has read its lots and
    stock and before its transaction begins (another writer committing in between). Returns
    the list of the batches' reads (one per attempt)."""
    attempts: list[DoseStock] = []

    def install(change):
        original = DoseStock.__init__

        def init(self, *args, **kwargs):
            original(self, *args, **kwargs)
            attempts.append(self)
            if len(attempts) == 1:
                change()

        monkeypatch.setattr(DoseStock, "__init__", init)
        return attempts

    return install


def administered(lot) -> list[StockLine]:
    return list(StockLine.objects.filter(lot=lot, reason__code="administered"))


def test_a_balance_taken_meanwhile_is_never_drawn_below_zero(world, lot, meanwhile):
    attempts = meanwhile(lambda: StockBalance.objects.filter(pk=balance(world, lot).pk).update(on_hand=0))
    person = make_person(world, seq=501)
    out = record_doses([item(person, lot=lot.lot_number)], acting_user=world.users["vaccinator"], source="api")[0]
    assert out.code == "insufficient_stock" and out.error.detail["on_hand"] == 0
    assert len(attempts) == 2  # the update refused: decided again, locked from the start
    assert balance(world, lot).on_hand == 0
    assert not administered(lot) and not DoseRecord.objects.filter(person=person).exists()


def test_a_balance_that_moved_but_still_suffices_is_moved_from_its_current_value(world, lot, meanwhile):
    attempts = meanwhile(lambda: StockBalance.objects.filter(pk=balance(world, lot).pk).update(on_hand=3))
    people = [make_person(world, seq=510 + i) for i in range(2)]
    outs = record_doses([item(p, lot=lot.lot_number) for p in people], acting_user=world.users["vaccinator"],
                        source="api")
    assert [o.status for o in outs] == ["created", "created"]
    assert len(attempts) == 1  # 3 - 2 stays at or above zero: no second round
    assert balance(world, lot).on_hand == 1  # 3 - 2, not the 5 - 2 the batch read
    (line,) = administered(lot)
    assert line.quantity == -2
    assert StockEvent.objects.filter(reason__code="administered").count() == 1


def test_more_doses_than_a_moved_balance_holds_go_round_again_and_the_rest_are_refused(world, lot, meanwhile):
    attempts = meanwhile(lambda: StockBalance.objects.filter(pk=balance(world, lot).pk).update(on_hand=2))
    people = [make_person(world, seq=520 + i) for i in range(3)]
    outs = record_doses([item(p, lot=lot.lot_number) for p in people], acting_user=world.users["vaccinator"],
                        source="api")
    assert [o.status for o in outs] == ["created", "created", "rejected"]
    assert outs[2].code == "insufficient_stock"
    assert len(attempts) == 2
    assert balance(world, lot).on_hand == 0
    assert [x.quantity for x in administered(lot)] == [-2]


@pytest.mark.parametrize("hold", ["store", "balance"])
def test_stock_put_on_hold_meanwhile_is_not_drawn(world, lot, meanwhile, hold):
    if hold == "store":
        attempts = meanwhile(lambda: Store.objects.filter(pk=world.stores["KD-MASS"].pk).update(on_hold=True))
    else:
        attempts = meanwhile(lambda: StockBalance.objects.filter(pk=balance(world, lot).pk).update(on_hold=True))
    person = make_person(world, seq=530)
    out = record_doses([item(person, lot=lot.lot_number)], acting_user=world.users["vaccinator"], source="api")[0]
    assert out.code == "stock_on_hold"
    assert len(attempts) == 2
    assert balance(world, lot).on_hand == 5
    assert not administered(lot) and not DoseRecord.objects.filter(person=person).exists()


def test_a_batch_with_more_lots_and_sites_than_the_folded_read_reads_its_stock_on_its_own(world, lot):
    people = [make_person(world, seq=540 + i) for i in range(FOLD_MAX + 1)]
    items = [item(people[0], lot=lot.lot_number)]
    items += [item(p, lot=f"B20219{i:02d}") for i, p in enumerate(people[1:])]  # lots that do not exist
    outs = record_doses(items, acting_user=world.users["vaccinator"], source="api")
    assert outs[0].status == "created"
    assert {o.code for o in outs[1:]} == {"lot_not_found"}
    assert balance(world, lot).on_hand == 4


def test_the_conditional_move_refuses_below_zero_and_held_stock(world, lot):
    b = balance(world, lot)
    with transaction.atomic():
        assert not ledger.move_debits([(b.pk, -6)])
        assert ledger.move_debits([(b.pk, -5)])
        assert not ledger.move_debits([(b.pk, -1)])
        transaction.set_rollback(True)
    assert balance(world, lot).on_hand == 5
    with transaction.atomic():
        StockBalance.objects.filter(pk=b.pk).update(on_hold=True)
        assert not ledger.move_debits([(b.pk, -1)])
        transaction.set_rollback(True)
    with transaction.atomic():
        Store.objects.filter(pk=b.store_id).update(on_hold=True)
        assert not ledger.move_debits([(b.pk, -1)])
        transaction.set_rollback(True)
    other = StockBalance.objects.get(store=world.stores["KD-MASS"], lot=world.lots["bibp"])
    with transaction.atomic():
        # One of two refused: False, and the caller rolls the other back with its transaction.
        assert not ledger.move_debits([(b.pk, -6), (other.pk, -1)])
        transaction.set_rollback(True)
    assert balance(world, lot).on_hand == 5


def test_the_appended_event_reads_back_as_the_ledger_writes_it(world, lot):
    store = world.stores["KD-MASS"]
    with transaction.atomic():
        event_id = ledger.append([ledger.Line(store.pk, lot.pk, -2, "administered")], reason="administered",
                                 user=world.users["vaccinator"], occurred_at=AT, detail={"doses": 2})
    event = StockEvent.objects.get(pk=event_id)
    assert (event.reason.code, event.user, event.occurred_at, event.detail) == (
        "administered", world.users["vaccinator"], AT, {"doses": 2})
    assert event.recorded_at is not None and event.client_uuid is None and event.document_number == ""
    (line,) = event.lines.all()
    assert (line.store, line.lot, line.quantity, line.reason.code, line.occurred_at) == (
        store, lot, -2, "administered", AT)
    assert balance(world, lot).on_hand == 5  # ``append`` moves no balance


def test_a_receiver_of_the_events_save_signal_is_not_skipped(world, lot):
    seen = []

    def receiver(sender, instance, created, **kwargs):
        seen.append((sender, created))

    post_save.connect(receiver, sender=StockEvent)
    try:
        with transaction.atomic():
            ledger.append([ledger.Line(world.stores["KD-MASS"].pk, lot.pk, -1, "administered")],
                          reason="administered", user=None, occurred_at=AT)
    finally:
        post_save.disconnect(receiver, sender=StockEvent)
    assert seen == [(StockEvent, True)]
    assert StockLine.objects.filter(lot=lot, reason__code="administered").count() == 1


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the SQLite write")
def test_on_sqlite_the_event_names_the_batchs_first_and_last_dose(world, lot):
    people = [make_person(world, seq=560 + i) for i in range(3)]
    outs = record_doses([item(p, lot=lot.lot_number) for p in people], acting_user=world.users["vaccinator"],
                        source="api")
    ids = [o.record.pk for o in outs]
    event = StockEvent.objects.get(reason__code="administered")
    assert event.detail == {"doses": 3, "first_dose_id": min(ids), "last_dose_id": max(ids)}
    assert balance(world, lot).on_hand == 2
