"""The stock services as a supply officer and a site manager meet them: receipts, transfers with
proof of delivery, adjustments, counts and reversals, each audited."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import SITE_STOCK
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.supply.models import Lot, StockEvent, StockLine, TransferStatus
from vaxops.supply.services import (
    adjust_stock,
    count_stock,
    create_store,
    receive_shipment,
    reverse_event,
    supply_arrival_temperature,
)
from vaxops.supply.tests.helpers import counts, held, on_hand, receive, send


def ship(world, *, lot="G2021777", doses=2000, celsius=4.5, store="KD-CDC", user="supply_officer", **kw):
    return receive_shipment(
        client_uuid=kw.pop("client_uuid", uuid.uuid4()), store_code=store, product_code=kw.pop("product", "BIBP"),
        lot_number=lot, expiry_date=kw.pop("expiry", dt.date(2030, 6, 30)), doses=doses,
        manufacturer="北京生物", release_certificate="SJ202105001", arrival_temperature_c=celsius,
        acting_user=world.users[user], source="api", **kw)


# receipts


def test_a_receipt_creates_the_lot_with_its_presentation_and_credits_the_store(world):
    event, replayed = ship(world)
    lot = Lot.objects.get(lot_number="G2021777")
    assert not replayed
    assert (lot.product.code, lot.release_certificate, lot.doses_per_vial) == ("BIBP", "SJ202105001",
                                                                              lot.product.doses_per_vial)
    line = event.lines.get()
    assert (line.store.code, line.quantity, line.reason.code) == ("KD-CDC", 2000, "receipt")
    assert AuditEvent.objects.filter(action="stock.receipt", object_id=str(event.pk)).count() == 1


def test_a_receipt_without_its_temperature_record_is_on_hold_until_supplied(world):
    event, _ = ship(world, celsius=None)
    lot = Lot.objects.get(lot_number="G2021777")
    from vaxops.supply.models import StockBalance

    balance = StockBalance.objects.get(store=world.stores["KD-CDC"], lot=lot)
    assert balance.on_hand == 2000 and balance.on_hold
    with pytest.raises(VaxopsError) as exc:
        send(world, 10, lot="G2021777")
    assert exc.value.code == "stock_on_hold"
    supply_arrival_temperature(event_id=event.pk, arrival_temperature_c=6, acting_user=world.users["supply_officer"],
                               source="api")
    balance.refresh_from_db()
    assert not balance.on_hold
    assert send(world, 10, lot="G2021777").status == TransferStatus.IN_TRANSIT


def test_a_receipt_outside_two_to_eight_degrees_is_refused_and_writes_nothing(world):
    before = counts()
    with pytest.raises(VaxopsError) as exc:
        ship(world, celsius=9.5)
    assert exc.value.code == "arrival_temperature_out_of_range" and exc.value.status == 422
    assert counts() == before and not Lot.objects.filter(lot_number="G2021777").exists()


def test_a_replayed_receipt_returns_the_first_and_other_content_conflicts(world):
    key = uuid.uuid4()
    first, _ = ship(world, client_uuid=key)
    again, replayed = ship(world, client_uuid=key)
    assert replayed and again.pk == first.pk and on_hand(world, "KD-CDC", "bibp") == SITE_STOCK
    with pytest.raises(VaxopsError) as exc:
        ship(world, client_uuid=key, doses=2001)
    assert exc.value.code == "idempotency_conflict"
    assert StockEvent.objects.filter(client_uuid=key).count() == 1


# transfers


def test_dispatch_takes_stock_out_of_the_sender_and_receipt_puts_it_in_the_receiver(world):
    t = send(world, 500)
    assert t.status == TransferStatus.IN_TRANSIT
    assert on_hand(world, "KD-CDC") == SITE_STOCK - 500 and on_hand(world, "KD-MASS") == SITE_STOCK
    out = StockLine.objects.get(event__transfer=t)
    assert (out.quantity, out.destination_store.code, out.source_store) == (-500, "KD-MASS", None)
    receive(world, t, 480, 20, reason="broken")
    t.refresh_from_db()
    assert t.status == TransferStatus.RECEIVED
    assert on_hand(world, "KD-MASS") == SITE_STOCK + 480
    assert on_hand(world, "KD-CDC") == SITE_STOCK - 500 + 20
    back = StockLine.objects.get(event__transfer=t, reason__code="dispatch_rejected")
    assert (back.store.code, back.quantity, back.source_store.code) == ("KD-CDC", 20, "KD-MASS")
    line = t.lines.get()
    assert (line.accepted, line.rejected, line.rejection_reason.code) == (480, 20, "broken")


def test_a_transfer_received_without_temperature_is_on_hold_then_released(world):
    t = send(world, 300)
    receive(world, t, 300, celsius=None)
    t.refresh_from_db()
    assert t.status == TransferStatus.RECEIVED_ON_HOLD and held(world, "KD-MASS")
    supply_arrival_temperature(transfer_id=t.pk, arrival_temperature_c=4, acting_user=world.users["site_manager"],
                               source="api")
    t.refresh_from_db()
    assert t.status == TransferStatus.RECEIVED and not held(world, "KD-MASS")
    assert on_hand(world, "KD-MASS") == SITE_STOCK + 300


def test_a_late_temperature_out_of_range_writes_the_held_doses_off(world):
    t = send(world, 300)
    receive(world, t, 300, celsius=None)
    supply_arrival_temperature(transfer_id=t.pk, arrival_temperature_c=12, acting_user=world.users["site_manager"],
                               source="api")
    assert on_hand(world, "KD-MASS") == SITE_STOCK and not held(world, "KD-MASS")
    assert StockLine.objects.get(reason__code="cold_chain_failure").quantity == -300


def test_a_transfer_arriving_warm_is_refused_back_to_the_sender(world):
    t = send(world, 300)
    receive(world, t, 300, celsius=11)
    t.refresh_from_db()
    assert t.status == TransferStatus.REFUSED
    assert on_hand(world, "KD-CDC") == SITE_STOCK and on_hand(world, "KD-MASS") == SITE_STOCK
    assert t.lines.get().rejected == 300


@pytest.mark.parametrize(("frm", "to", "ok"), [
    ("KD-CDC", "KD-MASS", True),   # to a child
    ("KD-MASS", "KD-THC", True),   # to a sibling
    ("KD-MASS", "KD-CDC", True),   # back to the parent
    ("KD-MASS", "LD-MASS", False),  # a cousin
    ("KD-MASS", "KD-MASS", False),
])
def test_routes(world, frm, to, ok):
    world.users["admin"]  # noqa: B018 - the admin works everywhere
    if ok:
        assert send(world, 5, frm=frm, to=to, user="admin").status == TransferStatus.IN_TRANSIT
    else:
        with pytest.raises(VaxopsError) as exc:
            send(world, 5, frm=frm, to=to, user="admin")
        assert exc.value.code == "invalid_route"


def test_a_transfer_is_received_once(world):
    t = send(world, 10)
    receive(world, t, 10)
    with pytest.raises(VaxopsError) as exc:
        receive(world, t, 10)
    assert exc.value.code == "transfer_not_in_transit"


# adjustments, counts, reversals


def test_an_adjustment_takes_its_sign_from_the_reason(world):
    adjust_stock(client_uuid=None, store_code="KD-MASS", lot_number="B2021001", doses=3, reason="broken",
                 acting_user=world.users["site_manager"], source="web")
    adjust_stock(client_uuid=None, store_code="KD-MASS", lot_number="B2021001", doses=1, reason="found",
                 acting_user=world.users["site_manager"], source="web")
    assert on_hand(world, "KD-MASS") == SITE_STOCK - 2


def test_a_count_writes_the_differences_only(world):
    event = count_stock(store_code="KD-MASS", counts={"B2021001": SITE_STOCK - 7, "C2021001": SITE_STOCK + 2},
                        acting_user=world.users["site_manager"], source="web")
    got = {(x.lot.lot_number, x.reason.code, x.quantity) for x in event.lines.all()}
    assert got == {("B2021001", "count_shortage", -7), ("C2021001", "count_overage", 2)}
    assert count_stock(store_code="KD-MASS", counts={"B2021001": SITE_STOCK - 7},
                       acting_user=world.users["site_manager"], source="web") is None
    assert AuditEvent.objects.filter(action="stock.count").count() == 2


def test_a_reversal_negates_the_lines_once(world):
    event, _ = adjust_stock(client_uuid=None, store_code="KD-MASS", lot_number="B2021001", doses=4, reason="lost",
                            acting_user=world.users["site_manager"], source="web")
    reversal = reverse_event(event_id=event.pk, note="found in the other fridge",
                             acting_user=world.users["site_manager"], source="web")
    assert reversal.reverses_id == event.pk and on_hand(world, "KD-MASS") == SITE_STOCK
    with pytest.raises(VaxopsError) as exc:
        reverse_event(event_id=event.pk, note="again", acting_user=world.users["site_manager"], source="web")
    assert exc.value.code == "event_already_reversed"


def test_a_store_is_created_under_its_parent(world):
    store = create_store(code="KD-TEAM1", name_zh="康定流动接种队", level=6, division_code="513301",
                         parent_code="KD-MASS", equipment_class="cold_box", acting_user=world.users["supply_officer"],
                         source="web")
    assert store.parent.code == "KD-MASS" and store.county_code == "513301"
    assert send(world, 5, frm="KD-MASS", to="KD-TEAM1", user="admin").status == TransferStatus.IN_TRANSIT
