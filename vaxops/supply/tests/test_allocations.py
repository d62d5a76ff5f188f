"""Allocation from live data: the engine's inputs, the proposal, and its approval into transfers."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from conftest import make_person
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.planning.allocation import allocate, parse_problem
from vaxops.sites.models import Session
from vaxops.supply.allocations import approve_allocation, explain, live_inputs, propose_allocation
from vaxops.supply.ledger import Line, post
from vaxops.supply.models import (
    Allocation,
    AllocationLine,
    Lot,
    StockBalance,
    StockLine,
    Transfer,
    TransferStatus,
)

TZ = dt.timezone(dt.timedelta(hours=8))
TODAY = dt.date(2021, 6, 1)


def at(day: str, hour: int = 10) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(hour=hour, tzinfo=TZ)


def on_hand(store, lot) -> int:
    row = StockBalance.objects.filter(store=store, lot=lot).first()
    return row.on_hand if row else 0


def empty_store(world, code: str) -> None:
    """Write off every dose a store holds (a test's starting point: no stock at the children)."""
    store = world.stores[code]
    lines = [Line(store.pk, b.lot_id, -b.on_hand, "lost") for b in StockBalance.objects.filter(store=store, on_hand__gt=0)]
    if lines:
        post(lines, reason="lost", user=None, occurred_at=at("2021-01-05"))


def give(world, person, day: str, *, product="BIBP", lot="B2021001", site="KD-MASS"):
    """A dose entered afterwards from the paper record (a retrospective entry by the site manager)."""
    from vaxops.access.services import create_user
    from vaxops.vaccination.services import record_dose

    key = f"site_manager_{site}"
    if key not in world.users:
        world.users[key], _ = create_user(username=key.lower(), role="site_manager", scope=site, source="cli")
    manager = world.users[key]
    dose, _ = record_dose(
        client_uuid=uuid.uuid4(), person_id=person.pk, product_code=product, lot_number=lot, site_code=site,
        administered_at=at(day), acting_user=manager, source="cli", retrospective_reason="paper record",
    )
    return dose


def products(*codes):
    from vaxops.catalog.models import Product

    return [Product.objects.get(code=c) for c in codes]


@pytest.fixture
def kangding(world):
    """Kangding county on 2021-06-01: residents in Lucheng township (KD-THC's area) and at county
    level (KD-MASS's area), some vaccinated, a session plan, and Lucheng a border area."""
    lucheng = world.divisions["513301001"]
    lucheng.is_border = True
    lucheng.save()
    seq = iter(range(101, 999, 2))
    people = {}
    for key in ("a", "b", "c"):  # adults still to vaccinate
        people[key] = make_person(world, seq=next(seq))
    people["moved"] = make_person(world, seq=next(seq))
    people["moved"].status = "moved_out"
    people["moved"].save()
    people["child"] = make_person(world, born=dt.date(2011, 3, 3), seq=next(seq))  # 10: no band open yet
    people["teen"] = make_person(world, born=dt.date(2005, 3, 3), seq=next(seq))  # 16: 12-17 opens 2021-07-01
    for key, day in (("due_first", "2021-05-20"), ("due_last", "2021-05-25"), ("after", "2021-05-26"),
                     ("before", "2021-05-10")):
        people[key] = make_person(world, seq=next(seq))
        give(world, people[key], day)  # dose 1 at the mass site: dose 2 possible 21 days later
    people["done"] = make_person(world, seq=next(seq))
    give(world, people["done"], "2021-04-01")
    give(world, people["done"], "2021-04-25")
    for key in ("county_1", "county_2"):  # registered at county level: the mass site's area
        people[key] = make_person(world, seq=next(seq), division="513301")
    people["corona"] = make_person(world, seq=next(seq))
    give(world, people["corona"], "2021-05-22", product="CORONAVAC", lot="C2021001", site="KD-THC")
    Session.objects.create(site=world.sites["KD-MASS"], date=dt.date(2021, 6, 2), planned_doses=300)
    Session.objects.create(site=world.sites["KD-MASS"], date=dt.date(2021, 6, 15), planned_doses=200)
    Session.objects.create(site=world.sites["KD-MASS"], date=dt.date(2021, 6, 16), planned_doses=999)
    return people


def test_live_inputs_are_read_from_people_doses_stock_and_sessions(world, kangding):
    live = live_inputs(world.stores["KD-CDC"], products("BIBP"), horizon_days=14, default_capacity=None, today=TODAY)
    by = {c.code: c for c in live.children}
    assert sorted(by) == ["KD-MASS", "KD-THC"]
    mass, thc = by["KD-MASS"], by["KD-THC"]
    # Lucheng: a, b, c still to vaccinate (not the moved-out one, not the 10- and 16-year-olds,
    # not those with a dose); the two registered at county level are the mass site's.
    assert thc.first_dose_demand == 3
    assert mass.first_dose_demand == 2
    # Dose 2 possible from today through 15 June: dose 1 on 20 and 25 May (not 26 May, not 10 May,
    # not the completed series), counted where dose 1 was given; CoronaVac's at the health centre.
    assert mass.second_dose_due == {"BIBP": 2}
    assert thc.second_dose_due == {"CORONAVAC": 1}
    # Usable stock: the released lots only (the expired, quarantined and recalled ones are not).
    # (Doses given draw down the site's stock once the dose path does: read the balances.)
    bibp, corona = world.lots["bibp"], world.lots["coronavac"]
    assert mass.stock_on_hand == {"BIBP": on_hand(world.stores["KD-MASS"], bibp),
                                  "CORONAVAC": on_hand(world.stores["KD-MASS"], corona)}
    assert thc.stock_on_hand == {"BIBP": on_hand(world.stores["KD-THC"], bibp),
                                 "CORONAVAC": on_hand(world.stores["KD-THC"], corona)}
    assert mass.stock_on_hand["BIBP"] in (10_000, 10_000 - 6)
    # Sessions from 1 to 15 June; the health centre has none and no default is given.
    assert (mass.capacity, mass.capacity_source, mass.planned_sessions) == (500, "sessions", 2)
    assert (thc.capacity, thc.capacity_source) == (None, "none")
    assert thc.engine_capacity() == 3 + 1
    assert (mass.weight, mass.weight_reasons) == (2.0, ["mass_site"])
    assert (thc.weight, thc.weight_reasons) == (1.5, ["border"])


def test_stock_on_hold_and_held_stores_do_not_count_as_on_hand(world, kangding):
    StockBalance.objects.filter(store=world.stores["KD-THC"], lot=world.lots["bibp"]).update(on_hold=True)
    world.stores["KD-MASS"].on_hold = True
    world.stores["KD-MASS"].save()
    live = live_inputs(world.stores["KD-CDC"], products("BIBP"), horizon_days=14, default_capacity=40, today=TODAY)
    by = {c.code: c for c in live.children}
    assert by["KD-MASS"].stock_on_hand == {}
    assert by["KD-THC"].stock_on_hand == {"CORONAVAC": on_hand(world.stores["KD-THC"], world.lots["coronavac"])}
    assert (by["KD-THC"].capacity, by["KD-THC"].capacity_source) == (40, "default")


def test_the_prefecture_counts_each_county_with_the_stores_below_it(world, kangding):
    make_person(world, county="513322", seq=901)
    live = live_inputs(world.stores["GZ-CDC"], products("BIBP"), horizon_days=14, default_capacity=None, today=TODAY)
    by = {c.code: c for c in live.children}
    assert sorted(by) == ["KD-CDC", "LD-CDC"]  # not the other prefecture's store
    assert by["KD-CDC"].first_dose_demand == 5
    assert by["LD-CDC"].first_dose_demand == 1
    assert by["KD-CDC"].second_dose_due == {"BIBP": 2, "CORONAVAC": 1}
    # the county store and both site stores below it
    assert by["KD-CDC"].stock_on_hand["BIBP"] == sum(
        on_hand(world.stores[code], world.lots["bibp"]) for code in ("KD-CDC", "KD-MASS", "KD-THC"))
    assert by["KD-CDC"].weight == 2.0  # a mass site draws from it


def propose(world, role="county_command", store="KD-CDC", supply=None, **kw):
    return propose_allocation(from_store_code=store, supply=supply or {"BIBP": 100}, acting_user=world.users[role],
                              source="cli", today=TODAY, **kw)


def test_a_proposal_keeps_its_inputs_and_follows_the_engine(world, kangding):
    empty_store(world, "KD-MASS")
    empty_store(world, "KD-THC")
    allocation = propose(world, supply={"BIBP": 6}, default_capacity=100)
    assert allocation.status == "proposed"
    lines = {x.store.code: x for x in AllocationLine.objects.filter(allocation=allocation).select_related("store")}
    assert sorted(lines) == ["KD-MASS", "KD-THC"]
    # The engine on the stored problem gives exactly the stored lines.
    result = allocate(parse_problem(allocation.inputs["problem"]))
    expected = {a.code: a.doses for a in result.allocations if a.product == "BIBP"}
    assert {k: v.doses for k, v in lines.items()} == {k: expected.get(k, 0) for k in lines}
    assert sum(x.doses for x in lines.values()) <= 6
    # Second doses first: 2 due at the mass site, 1 CoronaVac due at the health centre given with BIBP.
    assert lines["KD-MASS"].second_doses == 2
    assert lines["KD-THC"].second_doses == 1
    e = lines["KD-THC"].explanation
    assert (e["first_dose_demand"], e["second_dose_due_total"], e["capacity"], e["weight"]) == (3, 1, 100, 1.5)
    assert e["binding"] == lines["KD-THC"].binding
    assert "3" in explain(e)
    assert AuditEvent.objects.filter(action="allocation.propose", object_id=str(allocation.pk)).count() == 1


@pytest.mark.parametrize("supply", [1, 2, 5, 7, 12, 100])
def test_the_proposal_never_exceeds_the_supply_or_the_needs(world, kangding, supply):
    empty_store(world, "KD-MASS")
    empty_store(world, "KD-THC")
    allocation = propose(world, supply={"BIBP": supply, "CORONAVAC": supply})
    for product in ("BIBP", "CORONAVAC"):
        shipped = sum(AllocationLine.objects.filter(allocation=allocation, product__code=product)
                      .values_list("doses", flat=True))
        assert shipped <= supply
    total = sum(AllocationLine.objects.filter(allocation=allocation).values_list("doses", flat=True))
    # 5 people still to vaccinate and 3 second doses due: nothing is shipped beyond a use.
    assert total == min(2 * supply, 5 + 3)
    for line in AllocationLine.objects.filter(allocation=allocation):
        assert line.first_doses + line.second_doses == line.doses


def test_stock_already_at_the_children_is_not_shipped_again(world, kangding):
    allocation = propose(world, supply={"BIBP": 100})
    assert sum(AllocationLine.objects.filter(allocation=allocation).values_list("doses", flat=True)) == 0
    assert set(AllocationLine.objects.filter(allocation=allocation).values_list("binding", flat=True)) == {"demand"}


@pytest.mark.parametrize("supply, code", [
    ({"BIBP": 10_001}, "insufficient_stock"),
    ({"WIBP": 5}, "nothing_to_allocate"),
    ({"NOPE": 5}, "product_not_found"),
    ({"BIBP": 0}, "invalid_quantity"),
    ({}, "invalid_quantity"),
])
def test_a_refused_proposal_writes_nothing(world, supply, code):
    with pytest.raises(VaxopsError) as err:
        propose_allocation(from_store_code="KD-CDC", supply=supply, acting_user=world.users["county_command"],
                           source="cli", today=TODAY)
    assert err.value.code == code
    assert not Allocation.objects.exists()
    if code == "insufficient_stock":
        assert err.value.detail["on_hand"] == 10_000 and err.value.detail["requested"] == 10_001


def test_stock_that_cannot_be_sent_is_not_supply(world):
    # Only expired, quarantined and recalled BIBP left at the county store.
    post([Line(world.stores["KD-CDC"].pk, world.lots["bibp"].pk, -10_000, "lost")], reason="lost", user=None,
         occurred_at=at("2021-01-05"))
    with pytest.raises(VaxopsError) as err:
        propose(world, supply={"BIBP": 1})
    assert err.value.code == "nothing_to_allocate"


def test_a_store_without_children_or_on_hold_cannot_allocate(world):
    with pytest.raises(VaxopsError) as err:
        propose(world, store="KD-MASS", role="admin", supply={"BIBP": 1})
    assert err.value.code == "store_has_no_children"
    world.stores["KD-CDC"].on_hold = True
    world.stores["KD-CDC"].save()
    with pytest.raises(VaxopsError) as err:
        propose(world, supply={"BIBP": 1})
    assert err.value.code == "stock_on_hold"


@pytest.mark.parametrize("kw, code", [({"horizon_days": 0}, "allocation_invalid_horizon"),
                                      ({"horizon_days": 91}, "allocation_invalid_horizon"),
                                      ({"default_capacity": -1}, "invalid_quantity")])
def test_bad_settings_are_refused(world, kw, code):
    with pytest.raises(VaxopsError) as err:
        propose(world, **kw)
    assert err.value.code == code


def test_approval_dispatches_one_transfer_per_child_earliest_expiry_first(world, kangding):
    empty_store(world, "KD-MASS")
    empty_store(world, "KD-THC")
    sender = world.stores["KD-CDC"]
    early = Lot.objects.create(product=world.lots["bibp"].product, lot_number="B2021E01",
                               expiry_date=dt.date(2029, 1, 1))
    post([Line(sender.pk, early.pk, 3, "receipt")], reason="receipt", user=None, occurred_at=at("2021-01-06"))
    allocation = propose(world, supply={"BIBP": 8}, default_capacity=100)
    shares = {x.store.code: x.doses for x in allocation.lines.select_related("store") if x.doses}
    assert sum(shares.values()) == 8
    transfers = approve_allocation(allocation_id=allocation.pk, acting_user=world.users["county_command"],
                                   source="cli")
    assert sorted(t.to_store.code for t in transfers) == sorted(shares)
    for t in transfers:
        t.refresh_from_db()
        assert t.status == TransferStatus.IN_TRANSIT and t.allocation_id == allocation.pk
        assert t.from_store_id == sender.pk and t.dispatched_at is not None
        assert sum(t.lines.values_list("doses", flat=True)) == shares[t.to_store.code]
    # The earliest expiry goes first: the 3 doses of B2021E01, then B2021001.
    assert on_hand(sender, early) == 0
    assert on_hand(sender, world.lots["bibp"]) == 10_000 - 5
    first = min(transfers, key=lambda t: t.to_store.code)
    assert first.lines.order_by("lot__expiry_date").first().lot == early
    allocation.refresh_from_db()
    assert allocation.status == "approved" and allocation.approved_by == world.users["county_command"]
    assert AuditEvent.objects.filter(action="allocation.approve", object_id=str(allocation.pk)).count() == 1


def test_approving_twice_is_refused(world, kangding):
    empty_store(world, "KD-THC")
    allocation = propose(world, supply={"BIBP": 4}, default_capacity=100)
    approve_allocation(allocation_id=allocation.pk, acting_user=world.users["county_command"], source="cli")
    with pytest.raises(VaxopsError) as err:
        approve_allocation(allocation_id=allocation.pk, acting_user=world.users["county_command"], source="cli")
    assert err.value.code == "allocation_not_proposed"
    assert Transfer.objects.count() == 1


def test_a_failure_in_any_line_writes_nothing(world, kangding):
    empty_store(world, "KD-MASS")
    empty_store(world, "KD-THC")
    allocation = propose(world, supply={"BIBP": 8}, default_capacity=100)
    assert allocation.lines.filter(doses__gt=0).count() == 2
    # Meanwhile most of the county's stock was sent elsewhere: the second child's line cannot be met.
    post([Line(world.stores["KD-CDC"].pk, world.lots["bibp"].pk, -9_995, "lost")], reason="lost", user=None,
         occurred_at=at("2021-01-07"))
    lines_before = StockLine.objects.count()
    with pytest.raises(VaxopsError) as err:
        approve_allocation(allocation_id=allocation.pk, acting_user=world.users["county_command"], source="cli")
    assert err.value.code == "insufficient_stock"
    assert Transfer.objects.count() == 0
    assert StockLine.objects.count() == lines_before
    assert on_hand(world.stores["KD-CDC"], world.lots["bibp"]) == 5
    allocation.refresh_from_db()
    assert allocation.status == "proposed"
    assert not AuditEvent.objects.filter(action="allocation.approve").exists()


def test_a_store_on_hold_at_approval_dispatches_nothing(world, kangding):
    empty_store(world, "KD-THC")
    allocation = propose(world, supply={"BIBP": 4}, default_capacity=100)
    world.stores["KD-CDC"].on_hold = True
    world.stores["KD-CDC"].save()
    with pytest.raises(VaxopsError) as err:
        approve_allocation(allocation_id=allocation.pk, acting_user=world.users["county_command"], source="cli")
    assert err.value.code == "stock_on_hold"
    assert Transfer.objects.count() == 0


def test_only_the_command_approves(world, kangding):
    empty_store(world, "KD-THC")
    allocation = propose(world, role="supply_officer", supply={"BIBP": 4}, default_capacity=100)
    with pytest.raises(VaxopsError) as err:
        approve_allocation(allocation_id=allocation.pk, acting_user=world.users["supply_officer"], source="cli")
    assert err.value.code == "permission_denied"
    with pytest.raises(VaxopsError) as err:
        approve_allocation(allocation_id=allocation.pk, acting_user=world.users["county_command_ld"], source="cli")
    assert err.value.code == "allocation_not_found"
