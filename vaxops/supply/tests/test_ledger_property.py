"""Randomised event sequences: whatever receipts, transfers, proofs of delivery, late temperature
records, adjustments, counts and reversals arrive (accepted or refused), the live balances equal
``ledger.rebuild()``, none is below zero, a refusal writes nothing, and ``check-stock`` is clean.

The examples share the test's database (stock accumulates): the invariants must hold from any
state the services can reach.
"""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vaxops.core.errors import VaxopsError
from vaxops.supply import ledger
from vaxops.supply.models import StockBalance, StockEvent, Transfer, TransferStatus
from vaxops.supply.reconcile import check_stock
from vaxops.supply.services import (
    ReceiptLineIn,
    TransferLineIn,
    adjust_stock,
    count_stock,
    dispatch_transfer,
    receive_shipment,
    receive_transfer,
    reverse_event,
    supply_arrival_temperature,
)
from vaxops.supply.tests.helpers import counts

STORES = ["GZ-CDC", "KD-CDC", "KD-CDC", "LD-CDC", "KD-MASS", "KD-MASS", "KD-THC", "LD-MASS", "AB-FIX", "NOPE"]
# Mostly valid routes (child, sibling, parent), a few that are not.
ROUTES = [("GZ-CDC", "KD-CDC"), ("GZ-CDC", "LD-CDC"), ("KD-CDC", "KD-MASS"), ("KD-CDC", "KD-MASS"),
          ("KD-CDC", "KD-THC"), ("KD-MASS", "KD-THC"), ("KD-MASS", "KD-CDC"), ("KD-CDC", "LD-CDC"),
          ("LD-CDC", "LD-MASS"), ("AB-CDC", "AB-FIX"), ("KD-MASS", "LD-MASS"), ("KD-CDC", "NOPE")]
LOTS = ["B2021001"] * 4 + ["C2021001"] * 3 + ["N-NEW1", "N-NEW1", "N-NEW2", "B2021Q01", "B2020999", "NOLOT"]
REASONS = ["broken", "expired", "lost", "found", "returned", "cold_chain_failure", "vvm_discard", "transfer_in",
           "count_overage", "nope"]
TEMPERATURES = [None, None, 2.0, 5.5, 5.5, 8.0, 1.9, 8.1, 30.0, 61.0]

doses = st.one_of(st.integers(1, 600), st.integers(1, 600), st.sampled_from([0, -3, 9_000, 20_000]))
dispatch = st.tuples(st.just("dispatch"), st.sampled_from(ROUTES),
                     st.lists(st.tuples(st.sampled_from(LOTS), doses), min_size=1, max_size=2), st.booleans())
op = st.one_of(
    dispatch, dispatch,
    st.tuples(st.just("receipt"), st.sampled_from(STORES), st.sampled_from(LOTS), doses,
              st.sampled_from(TEMPERATURES), st.booleans()),
    st.tuples(st.just("receive"), st.integers(0, 20), st.sampled_from([100, 100, 90, 50, 0]),
              st.sampled_from(REASONS[:5] + [None]), st.sampled_from(TEMPERATURES), st.sampled_from([True] * 5 + [False])),
    st.tuples(st.just("temperature"), st.integers(0, 20), st.sampled_from(TEMPERATURES), st.booleans()),
    st.tuples(st.just("adjust"), st.sampled_from(STORES), st.sampled_from(LOTS), doses, st.sampled_from(REASONS)),
    st.tuples(st.just("count"), st.sampled_from(STORES), st.sampled_from(LOTS), st.integers(-50, 50)),
    st.tuples(st.just("reverse"), st.integers(0, 30)),
)


def _apply(world, step, user) -> None:
    kind = step[0]
    if kind == "receipt":
        _, store, lot, n, celsius, replay = step
        key = uuid.uuid4()
        for _ in range(2 if replay else 1):
            product = "CORONAVAC" if lot.startswith("C") else "BIBP"
            receive_shipment(client_uuid=key, store_code=store, product_code=product, lot_number=lot,
                             expiry_date=dt.date(2030, 12, 31), doses=n, arrival_temperature_c=celsius,
                             acting_user=user, source="cli")
    elif kind == "dispatch":
        _, (frm, to), lines, replay = step
        key = uuid.uuid4()
        for _ in range(2 if replay else 1):
            dispatch_transfer(client_uuid=key, from_store_code=frm, to_store_code=to,
                              lines=[TransferLineIn(lot, n) for lot, n in lines], acting_user=user, source="cli")
    elif kind == "receive":
        _, pick, percent, reason, celsius, answer_all = step
        waiting = list(Transfer.objects.filter(status=TransferStatus.IN_TRANSIT).order_by("pk"))
        if not waiting:
            return
        t = waiting[pick % len(waiting)]
        answers = []
        for tl in t.lines.select_related("lot"):
            accepted = tl.doses * percent // 100
            answers.append(ReceiptLineIn(tl.lot.lot_number, accepted, tl.doses - accepted, reason))
        if not answer_all:
            answers = answers[:1] + [ReceiptLineIn(a.lot_number, a.accepted + 1, a.rejected) for a in answers[1:]]
        receive_transfer(transfer_id=t.pk, lines=answers, arrival_temperature_c=celsius, acting_user=user,
                         source="cli")
    elif kind == "temperature":
        _, pick, celsius, on_receipt = step
        if on_receipt:
            held = list(StockEvent.objects.filter(reason__code="receipt", detail__on_hold=True).order_by("pk"))
            if held:
                supply_arrival_temperature(event_id=held[pick % len(held)].pk, arrival_temperature_c=celsius,
                                           acting_user=user, source="cli")
        else:
            held = list(Transfer.objects.filter(status=TransferStatus.RECEIVED_ON_HOLD).order_by("pk"))
            if held:
                supply_arrival_temperature(transfer_id=held[pick % len(held)].pk, arrival_temperature_c=celsius,
                                           acting_user=user, source="cli")
    elif kind == "adjust":
        _, store, lot, n, reason = step
        adjust_stock(client_uuid=uuid.uuid4(), store_code=store, lot_number=lot, doses=n, reason=reason,
                     acting_user=user, source="cli")
    elif kind == "count":
        _, store, lot, delta = step
        row = StockBalance.objects.filter(store__code=store, lot__lot_number=lot).first()
        count_stock(store_code=store, counts={lot: max(0, (row.on_hand if row else 0) + delta)}, acting_user=user,
                    source="cli")
    elif kind == "reverse":
        _, pick = step
        # Any recent event but the world's opening stock (reversing it would empty every store).
        events = list(StockEvent.objects.exclude(document_number="WORLD-STOCK").order_by("-pk")
                      .values_list("pk", flat=True)[:30])
        if not events:
            return
        reverse_event(event_id=events[pick % len(events)], note="entered in error", acting_user=user, source="cli")


def _balances() -> dict[tuple[int, int], tuple[int, bool]]:
    return {(s, lot): (n, h) for s, lot, n, h in
            StockBalance.objects.values_list("store_id", "lot_id", "on_hand", "on_hold") if n or h}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                  HealthCheck.too_slow])
@given(steps=st.lists(op, min_size=1, max_size=12), as_admin=st.sampled_from([True, True, True, False]))
def test_random_sequences_keep_balances_equal_to_the_rebuild(world, steps, as_admin):
    user = world.users["admin" if as_admin else "supply_officer"]
    for step in steps:
        before = counts()
        try:
            _apply(world, step, user)
        except VaxopsError:
            assert counts() == before, step
    live = _balances()
    assert all(n >= 0 for n, _h in live.values())
    with transaction.atomic():
        ledger.rebuild()
    assert _balances() == live
    report = check_stock()
    assert report.clean, [str(d) for d in report.discrepancies][:5]


def test_check_stock_reports_a_tampered_balance(world, capsys):
    from django.core.management import call_command

    call_command("check_stock")
    assert capsys.readouterr().out.startswith("clean:")
    StockBalance.objects.filter(store=world.stores["KD-MASS"], lot=world.lots["bibp"]).update(on_hand=9_999)
    with pytest.raises(SystemExit) as exc:
        call_command("check_stock")
    assert exc.value.code == 1
    out = capsys.readouterr().out
    assert "[balances] KD-MASS × B2021001" in out and "expected 10000, found 9999" in out
    assert "[reconciliation] KD-MASS × B2021001" in out
    call_command("rebuild_stock")
    assert "rebuilt" in capsys.readouterr().out
    call_command("check_stock", "--json")
    assert '"clean": true' in capsys.readouterr().out


def test_check_stock_counts_doses_against_the_administered_lines(world, capsys, person):
    import json

    from django.core.management import call_command

    from vaxops.vaccination.models import DoseRecord
    from vaxops.vaccination.services import record_dose

    record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                site_code="KD-MASS", administered_at=dt.datetime.fromisoformat("2021-05-10T10:00:00+08:00"),
                acting_user=world.users["vaccinator"], source="api")
    drawn = StockEvent.objects.filter(reason__code="administered").exists()
    if not drawn:
        # Before the dose path draws stock down, write what it will write: one administered line.
        with transaction.atomic():
            ledger.post([ledger.Line(world.stores["KD-MASS"].pk, world.lots["bibp"].pk, -1, "administered")],
                        reason="administered", user=None,
                        occurred_at=dt.datetime.fromisoformat("2021-05-10T10:00:00+08:00"))
    call_command("check_stock")
    assert capsys.readouterr().out.startswith("clean:")
    DoseRecord.objects.update(status="voided")  # a void that did not return the dose to stock
    with pytest.raises(SystemExit):
        call_command("check_stock", "--json")
    report = json.loads(capsys.readouterr().out)
    assert [(d["check"], d["detail"]["site"], d["expected"], d["found"]) for d in report["discrepancies"]] == [
        ("doses", "KD-MASS", 0, 1)]
