"""Every dose draws down its site's stock (docs/supply.md "Doses draw down stock")."""

from __future__ import annotations

import datetime as dt
import itertools
import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import SITE_STOCK, dose_body, make_person, stock
from vaxops.catalog.models import Product
from vaxops.core.errors import VaxopsError
from vaxops.supply.models import Lot, StockBalance, StockEvent, StockLine, Store
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.models import DoseRecord, DoseStatus
from vaxops.vaccination.services import void_dose

pytestmark = pytest.mark.django_db
AT = dt.datetime(2021, 5, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def on_hand(world, site_code: str, lot) -> int:
    return StockBalance.objects.get(store=world.stores[site_code], lot=lot).on_hand


def item(person, *, lot="B2021001", site="KD-MASS", product="BIBP", at=AT, **kw) -> DoseItem:
    return DoseItem(client_uuid=uuid.uuid4(), product_code=product, lot_number=lot, site_code=site,
                    administered_at=at, person_id=person.pk, **kw)


def new_lot(number: str, *, product="BIBP", per_vial: int = 1) -> Lot:
    return Lot.objects.create(product=Product.objects.get(code=product), lot_number=number,
                              expiry_date=dt.date(2030, 1, 1), doses_per_vial=per_vial)


def nothing_written(person) -> bool:
    return not DoseRecord.objects.filter(person=person).exists() and not StockEvent.objects.filter(
        reason__code="administered").exists()


def test_a_dose_takes_one_dose_from_its_sites_store(api, world, person):
    r = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk))
    assert r.status_code == 201, r.content
    assert on_hand(world, "KD-MASS", world.lots["bibp"]) == SITE_STOCK - 1
    assert on_hand(world, "LD-MASS", world.lots["bibp"]) == SITE_STOCK  # other stores untouched
    event = StockEvent.objects.get(reason__code="administered")
    line = event.lines.get()
    assert (line.store.code, line.lot.lot_number, line.quantity) == ("KD-MASS", "B2021001", -1)
    # On PostgreSQL the event is written before the dose row (one statement with the balance):
    # it counts the doses; on SQLite it names the first and last dose id too.
    assert event.detail["doses"] == 1
    assert event.detail.get("first_dose_id", r.json()["id"]) == r.json()["id"]


def test_a_dose_of_a_lot_not_at_the_site_is_refused_and_nothing_written(api, world, person):
    lot = new_lot("B2021777")
    stock(world, "LD-MASS", lot, 50)  # at another site only
    r = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk, lot="B2021777"))
    assert r.status_code == 409 and r.json()["code"] == "lot_not_at_site"
    assert r.json()["detail"]["lot_number"] == "B2021777"
    assert nothing_written(person)
    assert not StockBalance.objects.filter(store=world.stores["KD-MASS"], lot=lot).exists()


@pytest.fixture
def county_vaccinator(world):
    """A vaccinator over the county (as a county's records clerk): doses at all its sites."""
    from vaxops.access.services import create_user

    user, _ = create_user(username="kd_records", role="vaccinator", scope="513301", source="cli")
    return user


def test_a_site_without_a_store_refuses_every_dose(world, person, county_vaccinator):
    from vaxops.sites.models import Site

    Site.objects.create(code="KD-NEW", name_zh="新点", kind="fixed_site", division=world.divisions["513301"],
                        county_code="513301")
    [out] = record_doses([item(person, site="KD-NEW")], acting_user=county_vaccinator, source="api")
    assert out.status == "rejected" and out.code == "lot_not_at_site"
    assert nothing_written(person)


def test_lot_checks_come_before_the_stock(world, person):
    Lot.objects.filter(pk=new_lot("B2021Q77").pk).update(status="quarantined")
    [out] = record_doses([item(person, lot="B2021Q77")], acting_user=world.users["vaccinator"], source="api")
    assert out.code == "lot_quarantined"  # not lot_not_at_site


def test_the_last_dose_on_hand_is_given_and_the_next_refused(api, world):
    lot = new_lot("B2021002")
    stock(world, "KD-MASS", lot, 1)
    first, second = make_person(world, seq=301), make_person(world, seq=302)
    vaccinator = api(world.tokens["vaccinator"])
    assert vaccinator.post("/doses", dose_body(first.pk, lot="B2021002")).status_code == 201
    r = vaccinator.post("/doses", dose_body(second.pk, lot="B2021002"))
    assert r.status_code == 409 and r.json()["code"] == "insufficient_stock"
    assert (r.json()["detail"]["on_hand"], r.json()["detail"]["requested"]) == (0, 1)
    assert on_hand(world, "KD-MASS", lot) == 0
    assert not DoseRecord.objects.filter(person=second).exists()


def test_a_batch_stops_taking_when_the_stock_runs_out(world):
    lot = new_lot("B2021003")
    stock(world, "KD-MASS", lot, 2)
    people = [make_person(world, seq=310 + i) for i in range(3)]
    outs = record_doses([item(p, lot="B2021003") for p in people], acting_user=world.users["vaccinator"],
                        source="api")
    assert [o.status for o in outs] == ["created", "created", "rejected"]
    assert outs[2].code == "insufficient_stock" and outs[2].error.detail["on_hand"] == 0
    assert on_hand(world, "KD-MASS", lot) == 0


def test_a_store_on_hold_blocks_doses(api, world, person):
    Store.objects.filter(code="KD-MASS").update(on_hold=True)
    r = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk))
    assert r.status_code == 409 and r.json()["code"] == "stock_on_hold"
    assert nothing_written(person)
    Store.objects.filter(code="KD-MASS").update(on_hold=False)
    assert api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk)).status_code == 201


def test_a_balance_on_hold_blocks_doses_of_that_lot_only(world, person):
    StockBalance.objects.filter(store=world.stores["KD-MASS"], lot=world.lots["bibp"]).update(on_hold=True)
    held, other = record_doses([item(person), item(make_person(world, seq=320), product="CORONAVAC",
                                                      lot="C2021001")],
                               acting_user=world.users["vaccinator"], source="api")
    assert (held.code, other.status) == ("stock_on_hold", "created")


def test_a_batchs_drawdown_equals_its_created_doses_per_store_and_lot(world, county_vaccinator):
    people = [make_person(world, seq=330 + i) for i in range(6)]
    items = [
        item(people[0]), item(people[1]), item(people[2], product="CORONAVAC", lot="C2021001"),
        item(people[3], site="KD-THC"), item(people[4], lot="B2020999"),  # expired: refused
        item(people[5], site="KD-THC"),
    ]
    outs = record_doses(items, acting_user=county_vaccinator, source="api")
    assert [o.status for o in outs] == ["created"] * 4 + ["rejected", "created"]
    [event] = StockEvent.objects.filter(reason__code="administered")
    lines = {(x.store.code, x.lot.lot_number): x.quantity for x in event.lines.all()}
    created = {}
    for d in DoseRecord.objects.select_related("site", "lot"):
        created[(d.site.code, d.lot.lot_number)] = created.get((d.site.code, d.lot.lot_number), 0) - 1
    assert lines == created == {("KD-MASS", "B2021001"): -2, ("KD-MASS", "C2021001"): -1,
                                ("KD-THC", "B2021001"): -2}
    assert on_hand(world, "KD-THC", world.lots["bibp"]) == SITE_STOCK - 2


def test_a_replay_writes_no_stock(api, world, person):
    body = dose_body(person.pk)
    vaccinator = api(world.tokens["vaccinator"])
    assert vaccinator.post("/doses", body).status_code == 201
    assert vaccinator.post("/doses", body).status_code == 200
    assert on_hand(world, "KD-MASS", world.lots["bibp"]) == SITE_STOCK - 1
    assert StockEvent.objects.filter(reason__code="administered").count() == 1


def test_an_atomic_batch_refused_and_a_dry_run_take_no_stock(world):
    lot = new_lot("B2021004")
    stock(world, "KD-MASS", lot, 1)
    a, b = make_person(world, seq=340), make_person(world, seq=341)
    user = world.users["vaccinator"]
    outs = record_doses([item(a, lot="B2021004"), item(b, lot="B2021004")], acting_user=user, source="api",
                        atomic=True)
    assert [o.status for o in outs] == ["created", "rejected"] and not any(o.written for o in outs)
    outs = record_doses([item(a, lot="B2021004")], acting_user=user, source="api", dry_run=True)
    assert outs[0].status == "created" and not outs[0].written
    assert on_hand(world, "KD-MASS", lot) == 1
    assert not StockEvent.objects.filter(reason__code="administered").exists()


def test_voiding_a_dose_returns_it_to_the_store(api, world, person):
    r = api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk))
    void_dose(dose_id=r.json()["id"], reason="录错了人", acting_user=world.users["site_manager"], source="api")
    assert on_hand(world, "KD-MASS", world.lots["bibp"]) == SITE_STOCK
    line = StockLine.objects.get(reason__code="dose_voided")
    assert (line.store.code, line.quantity) == ("KD-MASS", 1)
    assert line.event.detail["dose_id"] == r.json()["id"]
    with pytest.raises(VaxopsError):  # voided twice: nothing returned twice
        void_dose(dose_id=r.json()["id"], reason="再来", acting_user=world.users["site_manager"], source="api")
    assert on_hand(world, "KD-MASS", world.lots["bibp"]) == SITE_STOCK


_lots = itertools.count(1)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(initial=st.integers(min_value=0, max_value=4),
       steps=st.lists(st.tuples(st.sampled_from(["record", "void"]), st.integers(0, 4)), max_size=10))
def test_record_and_void_sequences_keep_the_balance_at_initial_minus_valid_doses(world, pool, initial, steps):
    lot = new_lot(f"BH{next(_lots):05d}")
    if initial:
        stock(world, "KD-MASS", lot, initial)
    for action, k in steps:
        if action == "record":
            record_doses([item(pool[k], lot=lot.lot_number)], acting_user=world.users["vaccinator"], source="api")
        else:
            valid = list(DoseRecord.objects.filter(lot=lot, status=DoseStatus.VALID).order_by("pk"))
            if valid:
                void_dose(dose_id=valid[k % len(valid)].pk, reason="测试", acting_user=world.users["site_manager"],
                          source="api")
        given_ = DoseRecord.objects.filter(lot=lot, status=DoseStatus.VALID).count()
        held = StockBalance.objects.filter(store=world.stores["KD-MASS"], lot=lot).values_list("on_hand", flat=True)
        assert list(held) == ([initial - given_] if initial else [])
        assert given_ <= initial
    for d in DoseRecord.objects.filter(lot=lot, status=DoseStatus.VALID):  # the pool is free for the next one
        void_dose(dose_id=d.pk, reason="测试", acting_user=world.users["site_manager"], source="api")


@pytest.fixture
def pool(world):
    return [make_person(world, seq=400 + i) for i in range(5)]
