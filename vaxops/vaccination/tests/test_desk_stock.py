"""The desk offers what the site's store holds, and takes a scanned lot code as the picker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from conftest import SITE_STOCK, stock
from vaxops.catalog.models import Product
from vaxops.supply import ledger
from vaxops.supply.models import Lot, StockBalance, Store
from vaxops.vaccination.desk import scanned_lot_number
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.tests.test_desk import RECORD, choose, dose_fields, lookup

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client, world):
    from vaxops.vaccination.tests.test_desk import english

    client.force_login(world.users["vaccinator"])
    return english(client)


def bibp_lot(number: str, expiry: dt.date) -> Lot:
    return Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number=number, expiry_date=expiry)


def card(desk, person):
    return choose(desk, lookup(desk, person.id_number), "BIBP")


def test_the_picker_lists_only_lots_on_hand_at_the_site_earliest_expiry_first(desk, world, person):
    soon = bibp_lot("B2021SOON", dt.date(2029, 6, 30))
    stock(world, "KD-MASS", soon, 40)
    elsewhere = bibp_lot("B2021LD01", dt.date(2029, 1, 1))
    stock(world, "LD-MASS", elsewhere, 40)  # another site's stock
    empty = bibp_lot("B2021ZERO", dt.date(2029, 1, 1))
    stock(world, "KD-MASS", empty, 5)
    with transaction.atomic():
        ledger.post([ledger.Line(world.stores["KD-MASS"].pk, empty.pk, -5, "broken")], reason="broken",
                    user=None, occurred_at=dt.datetime(2021, 1, 5, tzinfo=dt.UTC))
    r = card(desk, person)
    lots = r.context["lots"]
    assert [lot.lot_number for lot in lots] == ["B2021SOON", "B2021001"]
    assert [lot.doses_left for lot in lots] == [40, SITE_STOCK]
    assert r.context["dose_form"].initial["lot"] == "B2021SOON"
    assert "40 doses left" in r.content.decode()


def test_a_lot_on_hold_at_the_site_is_not_offered(desk, world, person):
    StockBalance.objects.filter(store=world.stores["KD-MASS"], lot=world.lots["bibp"]).update(on_hold=True)
    r = card(desk, person)
    assert r.context["lots"] == [] and 'data-testid="no-lot"' in r.content.decode()


def test_a_store_on_hold_offers_nothing(desk, world, person):
    Store.objects.filter(code="KD-MASS").update(on_hold=True)
    r = lookup(desk, person.id_number)
    assert r.context["choices"] == [] or all(c["product"].code != "BIBP" for c in r.context["choices"])


@pytest.mark.parametrize("scanned", ["B2021001", "b2021001", "BIBP B2021001", "BIBP-B2021001", "BIBP:B2021001",
                                     "BIBPB2021001", "(10)B2021001", "(01)06901234567892(10)B2021001"])
def test_a_scanned_lot_code_records_the_dose_like_the_picker(desk, world, person, scanned):
    other = bibp_lot("B2021SOON", dt.date(2029, 6, 30))
    stock(world, "KD-MASS", other, 40)  # the picker's default is this one
    r = card(desk, person)
    done = desk.post(RECORD, dose_fields(r, lot_code=scanned))
    assert done.context["stage"] == "done", done.context["dose_form"].errors
    assert DoseRecord.objects.get(person=person).lot.lot_number == "B2021001"


def test_a_scanned_lot_not_at_the_site_is_refused_next_to_the_lot(desk, world, person):
    elsewhere = bibp_lot("B2021LD01", dt.date(2029, 1, 1))
    stock(world, "LD-MASS", elsewhere, 40)
    r = card(desk, person)
    refused = desk.post(RECORD, dose_fields(r, lot_code="BIBP-B2021LD01"))
    assert refused.context["stage"] == "card"
    assert refused.context["dose_form"].errors["lot"] == ["Lot B2021LD01 is not in stock at this site."]
    assert not DoseRecord.objects.filter(person=person).exists()


def test_scanned_lot_numbers_are_read_from_what_scanners_send(world):
    bibp = Product.objects.get(code="BIBP")
    lots = [world.lots["bibp"]]
    assert scanned_lot_number(" bibp/b2021001 ", bibp, lots) == "B2021001"
    assert scanned_lot_number("NOPE", bibp, lots) == "NOPE"
    assert scanned_lot_number("BIBP-X1", bibp, lots) == "X1"  # the service says why X1 cannot be used
