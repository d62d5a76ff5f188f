"""Cold chain: readings, excursions, the hold they put on a store's stock, and the review."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.supply import coldchain, ledger
from vaxops.supply.models import Excursion, StockBalance, StockEvent, Store, TemperatureReading

CST = dt.timezone(dt.timedelta(hours=8))
T0 = dt.datetime(2021, 5, 10, 8, 0, tzinfo=CST)


def warm_fridge(world, store="KD-MASS", *, user="site_manager", hours=11, start=T0):
    """A logger file: the fridge above +8 °C for ``hours`` h, then back at 5 °C."""
    readings = [(start + dt.timedelta(hours=h), 9.0) for h in range(hours)] + [(start + dt.timedelta(hours=hours), 5.0)]
    return coldchain.record_temperatures(store_code=store, readings=readings, kind="logger",
                                         acting_user=world.users[user], source="api")


def held(code: str) -> bool:
    return Store.objects.get(code=code).on_hold


def on_hand(store) -> int:
    return StockBalance.objects.filter(store=store).aggregate(s=Sum("on_hand"))["s"] or 0


def test_readings_in_range_are_stored_and_raise_nothing(world):
    readings = [(T0 + dt.timedelta(hours=h), 5.0) for h in range(24)]
    accepted, opened = coldchain.record_temperatures(store_code="KD-MASS", readings=readings, kind="logger",
                                                     acting_user=world.users["site_manager"], source="api")
    assert (accepted, opened) == (24, [])
    assert not held("KD-MASS")
    assert AuditEvent.objects.filter(action="temperature.record").count() == 1


def test_a_heat_alarm_puts_the_store_on_hold_at_once(world):
    accepted, [excursion] = warm_fridge(world)
    assert accepted == 12
    assert (excursion.rule, excursion.started_at, excursion.ended_at) == (
        "fridge_heat", T0, T0 + dt.timedelta(hours=11))
    assert excursion.status == "open" and held("KD-MASS")


def test_uploading_the_same_file_twice_counts_duplicates_and_opens_nothing_new(world):
    warm_fridge(world)
    accepted, opened = warm_fridge(world)
    assert (accepted, opened) == (0, [])
    assert TemperatureReading.objects.filter(store=world.stores["KD-MASS"]).count() == 12
    assert Excursion.objects.count() == 1


def test_a_late_reading_extends_the_ongoing_excursion_instead_of_opening_another(world):
    readings = [(T0 + dt.timedelta(hours=h), 9.0) for h in range(11)]
    _, [excursion] = coldchain.record_temperatures(store_code="KD-MASS", readings=readings, kind="logger",
                                                   acting_user=world.users["site_manager"], source="api")
    assert excursion.ended_at is None
    _, opened = coldchain.record_temperatures(store_code="KD-MASS", readings=[(T0 + dt.timedelta(hours=12), 4.0)],
                                              kind="logger", acting_user=world.users["site_manager"], source="api")
    assert opened == []
    excursion.refresh_from_db()
    assert excursion.ended_at == T0 + dt.timedelta(hours=12)


def test_an_excursion_blocks_doses_and_dispatch_at_the_ledger(world):
    warm_fridge(world)
    store, lot = world.stores["KD-MASS"], world.lots["bibp"]
    at = T0 + dt.timedelta(days=1)
    for reason, extra in (("administered", {}), ("transfer_out", {"destination_store_id": world.stores["KD-THC"].pk})):
        with pytest.raises(VaxopsError) as refused:
            ledger.post([ledger.Line(store.pk, lot.pk, -1, reason, **extra)], reason=reason, user=None,
                        occurred_at=at)
        assert refused.value.code == "stock_on_hold"
    # Another store is not affected.
    ledger.post([ledger.Line(world.stores["KD-THC"].pk, lot.pk, -1, "administered")], reason="administered",
                user=None, occurred_at=at)


def test_release_restores_doses_and_dispatch(world):
    _, [excursion] = warm_fridge(world)
    reviewed = coldchain.review_excursion(excursion_id=excursion.pk, decision="release", note="VVM stage 1, fridge fixed",
                                          vvm_checked=True, acting_user=world.users["supervisor"], source="web")
    assert (reviewed.status, reviewed.vvm_checked) == ("released", True)
    assert not held("KD-MASS")
    store, lot = world.stores["KD-MASS"], world.lots["bibp"]
    ledger.post([ledger.Line(store.pk, lot.pk, -1, "administered")], reason="administered", user=None,
                occurred_at=T0 + dt.timedelta(days=1))
    assert AuditEvent.objects.filter(action="excursion.review").count() == 1


def test_discard_writes_off_all_the_stock_of_the_store_in_one_event(world):
    store = world.stores["KD-MASS"]
    before = on_hand(store)
    assert before > 0
    _, [excursion] = warm_fridge(world)
    reviewed = coldchain.review_excursion(excursion_id=excursion.pk, decision="discard", note="VVM stage 3",
                                          acting_user=world.users["supervisor"], source="web")
    assert reviewed.status == "discarded"
    assert on_hand(store) == 0
    event = StockEvent.objects.get(pk=reviewed.discard_event_id)
    assert event.reason_id and event.reason.code == "cold_chain_failure"
    assert -sum(line.quantity for line in event.lines.all()) == before
    assert on_hand(world.stores["KD-THC"]) > 0  # only that store
    assert not held("KD-MASS")


def test_the_hold_ends_only_when_no_excursion_is_left_open(world):
    _, [heat] = warm_fridge(world)
    freeze = [(T0 + dt.timedelta(hours=20), -1.0), (T0 + dt.timedelta(hours=22), 4.0)]
    _, [cold] = coldchain.record_temperatures(store_code="KD-MASS", readings=freeze, kind="manual",
                                              acting_user=world.users["site_manager"], source="web")
    coldchain.review_excursion(excursion_id=heat.pk, decision="release", note="checked",
                               acting_user=world.users["supervisor"], source="web")
    assert held("KD-MASS")
    coldchain.review_excursion(excursion_id=cold.pk, decision="release", note="checked",
                               acting_user=world.users["supervisor"], source="web")
    assert not held("KD-MASS")


def test_reviewing_a_closed_excursion_is_refused(world):
    _, [excursion] = warm_fridge(world)
    coldchain.review_excursion(excursion_id=excursion.pk, decision="release", note="ok",
                               acting_user=world.users["supervisor"], source="web")
    with pytest.raises(VaxopsError) as refused:
        coldchain.review_excursion(excursion_id=excursion.pk, decision="discard", note="again",
                                   acting_user=world.users["supervisor"], source="web")
    assert refused.value.code == "excursion_closed"
    assert on_hand(world.stores["KD-MASS"]) > 0


@pytest.mark.parametrize(("decision", "note", "code"), [
    ("keep", "a note", "invalid_decision"), ("release", "  ", "review_note_required"),
])
def test_a_review_needs_a_decision_and_a_note(world, decision, note, code):
    _, [excursion] = warm_fridge(world)
    with pytest.raises(VaxopsError) as refused:
        coldchain.review_excursion(excursion_id=excursion.pk, decision=decision, note=note,
                                   acting_user=world.users["supervisor"], source="web")
    assert refused.value.code == code
    assert held("KD-MASS")


def test_after_a_release_a_fridge_still_warm_needs_another_full_duration(world):
    readings = [(T0 + dt.timedelta(hours=h), 9.0) for h in range(11)]
    _, [first] = coldchain.record_temperatures(store_code="KD-MASS", readings=readings, kind="logger",
                                               acting_user=world.users["site_manager"], source="api")
    coldchain.review_excursion(excursion_id=first.pk, decision="release", note="door shut",
                               acting_user=world.users["supervisor"], source="web")
    # Released while still going on: the rules count again from the review, so a reading from
    # before it raises nothing new.
    _, opened = coldchain.record_temperatures(store_code="KD-MASS", readings=[(T0 + dt.timedelta(hours=30), 9.0)],
                                              kind="logger", acting_user=world.users["site_manager"], source="api")
    assert opened == [] and not held("KD-MASS")


@pytest.mark.parametrize(("celsius", "code"), [(-61, "temperature_out_of_range"), (61, "temperature_out_of_range")])
def test_an_impossible_temperature_is_refused_and_nothing_is_written(world, celsius, code):
    with pytest.raises(VaxopsError) as refused:
        coldchain.record_temperatures(store_code="KD-MASS", readings=[(T0, 5.0), (T0 + dt.timedelta(hours=1), celsius)],
                                      acting_user=world.users["site_manager"], source="web")
    assert refused.value.code == code
    assert not TemperatureReading.objects.exists()


def test_the_bounds_minus_60_and_plus_60_are_accepted(world):
    accepted, _ = coldchain.record_temperatures(
        store_code="KD-CDC", readings=[(T0, -60), (T0 + dt.timedelta(minutes=1), 60)],
        acting_user=world.users["supply_officer"], source="web")
    assert accepted == 2


def test_a_reading_in_the_future_is_refused(world):
    from django.utils import timezone

    with pytest.raises(VaxopsError) as refused:
        coldchain.record_temperatures(store_code="KD-MASS", readings=[(timezone.now() + dt.timedelta(hours=1), 5.0)],
                                      acting_user=world.users["site_manager"], source="web")
    assert refused.value.code == "occurred_in_future"
    assert not TemperatureReading.objects.exists()


def test_a_store_outside_the_area_is_not_found(world):
    with pytest.raises(VaxopsError) as refused:
        coldchain.record_temperatures(store_code="LD-MASS", readings=[(T0, 5.0)],
                                      acting_user=world.users["site_manager"], source="web")
    assert refused.value.code == "store_not_found"


def test_a_cold_box_alarms_on_cumulative_heat(world):
    box = Store.objects.create(code="KD-TEAM1", name_zh="康定流动接种队", level=6, division=world.divisions["513301"],
                               county_code="513301", parent=world.stores["KD-CDC"], equipment_class="cold_box")
    # Three 4-hour spells at 31 °C on three days: 12 h at +30 °C or more in all.
    readings = []
    for day in range(3):
        start = T0 + dt.timedelta(days=day)
        readings += [(start, 31.0), (start + dt.timedelta(hours=4), 5.0)]
    _, opened = coldchain.record_temperatures(store_code=box.code, readings=readings, kind="logger",
                                              acting_user=world.users["supply_officer"], source="api")
    assert [e.rule for e in opened] == ["box_heat_30"]
    assert held("KD-TEAM1")


def test_missing_morning_and_afternoon_readings_are_flagged(world):
    store = world.stores["KD-MASS"]
    day = T0.date()
    coldchain.record_temperatures(store_code="KD-MASS", readings=[
        (T0, 5.0), (T0 + dt.timedelta(hours=7), 5.5),  # day 1 complete
        (T0 + dt.timedelta(days=1), 5.0),  # day 2: no afternoon reading
    ], acting_user=world.users["site_manager"], source="web")
    flags = coldchain.missing_readings(store, day, day + dt.timedelta(days=2))
    assert [(f.day, f.morning, f.afternoon) for f in flags] == [
        (day + dt.timedelta(days=1), False, True), (day + dt.timedelta(days=2), True, True),
    ]


def test_an_excursion_refuses_a_dose_through_the_one_write_path(world):
    import uuid

    from conftest import make_person
    from vaxops.vaccination import services

    warm_fridge(world)
    person = make_person(world)
    with pytest.raises(VaxopsError) as refused:
        services.record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001", site_code="KD-MASS",
                             administered_at=dt.datetime(2021, 5, 11, 10, 0, tzinfo=CST),
                             acting_user=world.users["vaccinator"], source="web")
    assert refused.value.code == "stock_on_hold"


def test_an_excursion_refuses_a_dispatch_until_it_is_released(world):
    import uuid

    from vaxops.supply.services import TransferLineIn, dispatch_transfer

    _, [excursion] = warm_fridge(world)

    def dispatch():
        return dispatch_transfer(client_uuid=uuid.uuid4(), from_store_code="KD-MASS", to_store_code="KD-THC",
                                 lines=[TransferLineIn("B2021001", 10)], acting_user=world.users["supply_officer"],
                                 source="api")

    with pytest.raises(VaxopsError) as refused:
        dispatch()
    assert refused.value.code == "stock_on_hold"
    coldchain.review_excursion(excursion_id=excursion.pk, decision="release", note="VVM stage 1", vvm_checked=True,
                               acting_user=world.users["supervisor"], source="web")
    transfer, _ = dispatch()
    assert transfer.status == "in_transit"
