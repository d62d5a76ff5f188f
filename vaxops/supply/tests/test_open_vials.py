"""Multi-dose vials: opened by the first dose, used by the next, written off when the window
passes or the session closes (docs/supply.md "Doses draw down stock")."""

from __future__ import annotations

import datetime as dt
import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from conftest import make_person, stock
from vaxops.catalog.models import Product
from vaxops.core.models import AuditEvent
from vaxops.supply.dosestock import close_open_vials, close_session_vials
from vaxops.supply.models import Lot, OpenVial, StockBalance, StockLine
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.services import void_dose

pytestmark = pytest.mark.django_db
TZ = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2021, 5, 10)


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), TZ)


@pytest.fixture
def multi(world):
    """A 5-dose vial presentation of a test lot (BIBP's open-vial window: 6 hours), 10 doses
    (two vials) at the Kangding mass site."""
    lot = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number="BMULTI01",
                             expiry_date=dt.date(2030, 1, 1), doses_per_vial=5)
    Product.objects.filter(code="BIBP").update(open_vial_hours=6)
    from vaxops.vaccination import services

    services._load_catalog(refresh=True)
    stock(world, "KD-MASS", lot, 10)
    return lot


@pytest.fixture
def people(world):
    return [make_person(world, seq=500 + i) for i in range(12)]


def dose(world, person, when, lot="BMULTI01"):
    [out] = record_doses([DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number=lot,
                                   site_code="KD-MASS", administered_at=when, person_id=person.pk)],
                         acting_user=world.users["vaccinator"], source="api")
    return out


def on_hand(world, lot) -> int:
    return StockBalance.objects.get(store=world.stores["KD-MASS"], lot=lot).on_hand


def wasted(lot) -> int:
    return -sum(StockLine.objects.filter(lot=lot, reason__code="open_vial_wastage").values_list("quantity", flat=True))


def test_the_first_dose_opens_a_vial_and_the_next_use_it(world, multi, people):
    assert dose(world, people[0], at(9)).status == "created"
    vial = OpenVial.objects.get()
    assert (vial.doses_left, vial.opened_at, vial.expires_at) == (4, at(9), at(15))
    assert dose(world, people[1], at(10)).status == "created"
    vial.refresh_from_db()
    assert vial.doses_left == 3 and OpenVial.objects.count() == 1
    assert on_hand(world, multi) == 8  # every dose given leaves the books at once


def test_a_vial_used_up_closes_with_nothing_wasted(world, multi, people):
    for i in range(5):
        assert dose(world, people[i], at(9, i)).status == "created"
    vial = OpenVial.objects.get()
    assert (vial.doses_left, vial.closed_at) == (0, at(9, 4))
    assert dose(world, people[5], at(10)).status == "created"  # a second vial
    assert OpenVial.objects.filter(closed_at__isnull=True).get().doses_left == 4
    assert wasted(multi) == 0


def test_the_next_dose_after_the_window_writes_the_vial_off_and_opens_another(world, multi, people):
    dose(world, people[0], at(9))
    dose(world, people[1], at(10))
    assert dose(world, people[2], at(15, 30)).status == "created"  # the 09:00 vial closed at 15:00
    old, new = OpenVial.objects.order_by("opened_at")
    assert (old.closed_at, old.close_event.reason_id is not None) == (at(15), True)
    assert wasted(multi) == 3
    assert (new.doses_left, new.opened_at) == (4, at(15, 30))
    assert on_hand(world, multi) == 10 - 3 - 3


def test_a_vial_opens_only_from_a_whole_vial_in_the_closed_stock(world, multi, people):
    dose(world, people[0], at(9))  # vial 1: 4 left
    close_session_vials(world.sites["KD-MASS"], DAY, at=at(18), acting_user=world.users["site_manager"],
                        source="web")
    assert wasted(multi) == 4 and on_hand(world, multi) == 5
    assert dose(world, people[1], at(9, day=DAY + dt.timedelta(days=1))).status == "created"  # vial 2: 4 left
    for i in range(2, 6):
        assert dose(world, people[i], at(10, i, day=DAY + dt.timedelta(days=1))).status == "created"
    out = dose(world, people[6], at(11, day=DAY + dt.timedelta(days=1)))
    assert out.code == "insufficient_stock"
    assert (out.error.detail["on_hand"], out.error.detail["requested"]) == (0, 5)


def test_a_remainder_below_one_vial_cannot_be_opened(world, multi, people):
    stock(world, "KD-MASS", multi, 2)  # 12 on the books: two vials and two doses that cannot be a vial
    for i in range(10):
        assert dose(world, people[i], at(9, i)).status == "created"
    out = dose(world, people[10], at(10))
    assert out.code == "insufficient_stock"
    assert (out.error.detail["on_hand"], out.error.detail["requested"]) == (2, 5)


def test_closing_the_session_writes_off_its_open_vials_once(world, multi, people):
    dose(world, people[0], at(9))
    dose(world, people[1], at(9, 5))
    done = close_session_vials(world.sites["KD-MASS"], DAY, at=at(17), acting_user=world.users["site_manager"],
                               source="web")
    assert done == {"vials": 1, "doses": 3}
    vial = OpenVial.objects.get()
    assert vial.closed_at == at(17) and vial.close_event is not None
    assert on_hand(world, multi) == 10 - 2 - 3
    assert AuditEvent.objects.filter(action="stock.close_vials").count() == 1
    again = close_session_vials(world.sites["KD-MASS"], DAY, at=at(18), acting_user=world.users["site_manager"],
                                source="web")
    assert again == {"vials": 0, "doses": 0} and wasted(multi) == 3


def test_close_vials_writes_off_only_vials_past_their_window(world, multi, people):
    dose(world, people[0], at(9))
    assert close_open_vials(at=at(14, 59), acting_user=None, source="cli") == {"vials": 0, "doses": 0}
    out = StringIO()
    call_command("close_vials", "--at", at(15, 1).isoformat(), "--store", "KD-MASS", stdout=out)
    assert "1 open vials, 4 doses" in out.getvalue()
    assert OpenVial.objects.get().closed_at == at(15)  # closed when the window ended
    assert wasted(multi) == 4 and on_hand(world, multi) == 5


def test_open_vial_wastage_is_written_off_even_while_the_store_is_on_hold(world, multi, people):
    from vaxops.supply.models import Store

    dose(world, people[0], at(9))
    Store.objects.filter(code="KD-MASS").update(on_hold=True)
    assert close_open_vials(at=at(16), acting_user=None, source="cli") == {"vials": 1, "doses": 4}


def test_a_voided_dose_goes_back_into_its_open_vial(world, multi, people):
    out = dose(world, people[0], dt.datetime.now(TZ) - dt.timedelta(minutes=30))
    void_dose(dose_id=out.record.pk, reason="录错", acting_user=world.users["site_manager"], source="web")
    assert OpenVial.objects.get().doses_left == 5
    assert on_hand(world, multi) == 10


def test_single_dose_lots_open_no_vials(world, people):
    assert dose(world, people[0], at(9), lot="B2021001").status == "created"
    assert not OpenVial.objects.exists()
