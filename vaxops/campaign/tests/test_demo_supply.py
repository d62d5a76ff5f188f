"""The demo's supply chain agrees with its doses: every dose drawn from its site's store,
every transfer received, every lot reconciled, one excursion reviewed, one lot quarantined,
and the desk's site stocked for today."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count, Sum
from django.utils import timezone

from vaxops.campaign import demo, demo_supply
from vaxops.campaign.services import TZ
from vaxops.supply.models import (
    Allocation,
    AllocationStatus,
    EquipmentClass,
    Excursion,
    ExcursionStatus,
    Lot,
    LotStatus,
    StockBalance,
    StockEvent,
    StockLine,
    Store,
    StoreLevel,
    Transfer,
    TransferStatus,
)
from vaxops.vaccination.models import DoseRecord

SCALE = 0.002
pytestmark = pytest.mark.django_db


@pytest.fixture
def built(demo_built) -> demo.DemoReport:
    return demo_built  # one build per module (conftest.py)


def test_every_demo_dose_came_out_of_its_site_store(built):
    stores = {s.code: s for s in Store.objects.select_related("parent", "site")}
    prefecture = stores[demo_supply.PREFECTURE_STORE[0]]
    assert prefecture.level == StoreLevel.PREFECTURE and prefecture.equipment_class == EquipmentClass.COLD_ROOM
    counties = [s for s in stores.values() if s.level == StoreLevel.COUNTY and s.parent == prefecture]
    assert len(counties) == 18 and all(s.parent == prefecture for s in counties)
    site_stores = [s for s in stores.values() if s.site_id is not None]
    assert len(site_stores) == built.sites + built.jingxi.sites  # Jingxi's stores: under Baise's
    for store in site_stores:
        assert store.parent.code == demo_supply.county_store_code(store.site.county_code), store.code
        if store.site.kind == "mobile_team":
            assert (store.level, store.equipment_class) == (StoreLevel.TEAM, EquipmentClass.COLD_BOX)
    # One "administered" line per site store × lot per batch; together they are the dose rows.
    drawn = {
        (store, lot): -total
        for store, lot, total in StockLine.objects.filter(reason__code="administered")
        .values("store__site_id", "lot_id").annotate(total=Sum("quantity"))
        .values_list("store__site_id", "lot_id", "total")
    }
    given = {
        (site, lot): n for site, lot, n in
        DoseRecord.objects.values("site_id", "lot_id").annotate(n=Count("id")).values_list("site_id", "lot_id", "n")
    }
    assert drawn == given
    assert sum(given.values()) == DoseRecord.objects.count() == built.doses + built.jingxi.doses
    assert built.supply.doses_drawn == built.doses


def test_every_transfer_was_received_and_every_lot_reconciles(built):
    figures = built.supply
    assert figures.transfers + built.jingxi.transfers == Transfer.objects.count() > 18
    statuses = Counter(Transfer.objects.values_list("status", flat=True))
    assert set(statuses) == {TransferStatus.RECEIVED}
    # Prefecture → every county, and county → site (proof of delivery with the arrival temperature).
    routes = Counter(Transfer.objects.values_list("from_store__level", "to_store__level"))
    assert routes[(StoreLevel.PREFECTURE, StoreLevel.COUNTY)] >= 18
    assert routes[(StoreLevel.COUNTY, StoreLevel.SITE)] > 0 and routes[(StoreLevel.COUNTY, StoreLevel.TEAM)] > 0
    assert not Transfer.objects.filter(arrival_temperature_c__isnull=True).exists()
    assert not Transfer.objects.filter(received_by__isnull=True).exists()
    receipts = StockEvent.objects.filter(reason__code="receipt")
    assert receipts.count() == figures.receipts + built.jingxi.receipts
    assert all(e.detail.get("arrival_temperature_c") is not None for e in receipts)
    assert not Lot.objects.filter(pk__in=receipts.values("lines__lot"), release_certificate="").exists()
    # Received = on hand + administered + wasted, for every lot (nothing in transit).
    received = dict(StockLine.objects.filter(reason__code="receipt").values("lot").annotate(n=Sum("quantity"))
                    .values_list("lot", "n"))
    on_hand = dict(StockBalance.objects.values("lot").annotate(n=Sum("on_hand")).values_list("lot", "n"))
    used = dict(StockLine.objects.filter(reason__code="administered").values("lot").annotate(n=Sum("quantity"))
                .values_list("lot", "n"))
    wasted = dict(StockLine.objects.filter(reason__is_wastage=True).values("lot").annotate(n=Sum("quantity"))
                  .values_list("lot", "n"))
    for lot, n in received.items():
        assert n == on_hand.get(lot, 0) - used.get(lot, 0) - wasted.get(lot, 0), lot
    # Some wastage: vials broken on receipt (rejected, written off) and a lot that expired unused.
    assert StockLine.objects.filter(reason__code="dispatch_rejected").exists()
    assert StockEvent.objects.filter(reason__code="broken").exists()
    expired = StockEvent.objects.get(reason__code="expired")
    assert expired.lines.get().lot.lot_number == demo_supply.EXPIRED_LOT
    # The balances are what a rebuild from the lines gives, and check-stock finds nothing.
    before = set(StockBalance.objects.values_list("store_id", "lot_id", "on_hand"))
    from vaxops.supply.ledger import rebuild

    rebuild()
    assert set(StockBalance.objects.values_list("store_id", "lot_id", "on_hand")) == before
    from vaxops.supply.reconcile import check_stock

    report = check_stock()
    assert report.clean, report.discrepancies[:5]
    out = StringIO()
    call_command("check_stock", stdout=out)
    assert out.getvalue().startswith("clean: "), out.getvalue()[:500]


def test_the_excursion_the_quarantined_lot_and_the_desk_stock(built):
    excursion = Excursion.objects.select_related("store", "reviewed_by").get()
    assert excursion.store.code == built.supply.excursion_store
    assert excursion.status == ExcursionStatus.RELEASED and excursion.vvm_checked
    assert excursion.reviewed_by.username == "supervisor"
    assert not Store.objects.filter(on_hold=True).exists()
    # The readings show more than ten hours above +8 °C in one night, and no dose was given at
    # that site between the start of the warm stretch and the next morning's session.
    warm = excursion.store.readings.filter(celsius__gt=8).order_by("at")
    assert warm.last().at - warm.first().at >= dt.timedelta(hours=10)
    night_start = warm.first().at
    morning = dt.datetime.combine(night_start.astimezone(TZ).date() + dt.timedelta(days=1), dt.time(8), tzinfo=TZ)
    assert not DoseRecord.objects.filter(site=excursion.store.site, administered_at__gte=night_start,
                                         administered_at__lt=morning).exists()
    # One campaign lot quarantined by the supervisor after the report; its doses still traced.
    lot = Lot.objects.get(lot_number=built.supply.quarantined_lot)
    assert lot.status == LotStatus.QUARANTINED and lot.status_reason
    doses = DoseRecord.objects.filter(lot=lot)
    assert doses.exists()
    assert doses.count() == -StockLine.objects.filter(lot=lot, reason__code="administered").aggregate(
        n=Sum("quantity"))["n"]
    assert doses.filter(administered_at__gt=demo.REPORT_AT).count() == 0
    # The desk's site holds usable lots of every product today, received through an approved
    # allocation among the counties.
    today = timezone.localdate()
    for code in demo_supply.DESK_SITES:
        usable = StockBalance.objects.filter(
            store__code=code, on_hand__gt=0, on_hold=False, lot__status=LotStatus.RELEASED,
            lot__expiry_date__gte=today,
        )
        assert set(usable.values_list("lot__product__code", flat=True)) == set(demo.LOT_SPECS), code
    allocation = Allocation.objects.get()
    assert allocation.status == AllocationStatus.APPROVED
    assert allocation.transfers.count() > 0
    assert set(allocation.transfers.values_list("status", flat=True)) == {TransferStatus.RECEIVED}
