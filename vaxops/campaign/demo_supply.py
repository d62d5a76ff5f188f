"""The demo's supply chain: stores from the prefecture's cold room to the mobile teams' cold
boxes, and every movement of the demo's vaccine through the supply services.

Decisions (the figures a reader may want to check are constants below):

* Stores: the prefecture CDC cold room, one CDC store per county, one store per site (the
  gymnasiums' cold rooms, refrigerators at the fixed sites and health centres, cold boxes for
  the mobile and point-to-point teams); each site store's parent is its county's store, each
  county's the prefecture's. Stores are reference data, inserted directly like the sites.
* The prefecture receives its lots from the manufacturers in consignments
  (``receive_shipment`` with the batch-release certificate and the arrival temperature), each
  dated the day its lot was released: before the campaign the first consignment of every lot
  out by then, and a further consignment of the newest lot out whenever a county's order
  finds the cold room short.
* Supply runs in weekly rounds (``ROUND_DAYS``), planned from the doses each site will give:
  two days before a round the prefecture dispatches each county what its sites will need
  (the two mass-site counties a day before the others) and the county receives it; the day
  before, the county dispatches to each site whose stock does not cover the round enough for
  two rounds (plus a small buffer) and the site receives it with its proof of delivery.
  Every store issues earliest expiry first (2017 storage rules, Art. 18), and each dose takes
  the earliest-expiring lot its site holds, so every dose comes out of its site's stock.
* Wastage: a few vials arrive broken at a site (rejected on receipt, back on the county's
  books, written off as broken), and a consignment of a lot that expired before the campaign
  is written off as expired at the prefecture. The products are single-dose presentations
  (product data), so there is no open-vial wastage.
* One cold-chain excursion: a night above +8 °C for more than ten hours in the refrigerator
  of Danba's county-town site; the store is on hold from the alarm until the supervisor
  releases it after a VVM check before the next morning's session.
* "Today" (the day the demo is built, which the site desk uses): the prefecture receives the
  desk lots, an allocation (``propose_allocation`` / ``approve_allocation``) splits them among
  the counties, and Kangding sends its share on to the gymnasium the desk logins work at.
  Then the supervisor quarantines one campaign lot; the doses given from it stay traceable.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.utils import timezone

from vaxops.campaign.services import TZ
from vaxops.sites.models import SiteKind
from vaxops.supply.models import EquipmentClass, Store, StoreLevel, Transfer

if TYPE_CHECKING:  # pragma: no cover
    from vaxops.campaign.demo import CountyPlan, DemoBuilder

PREFECTURE_STORE = ("513300-CDC", "甘孜州疾控中心冷库", "Garze Prefecture CDC cold room")
ROUND_DAYS = 14
SITE_COVER_ROUNDS = 3  # a site's delivery covers this round and the next two (six weeks)
SITE_BUFFER = 0.05  # share of a site's order kept beyond the doses planned
COUNTY_BUFFER = 0.10  # share of a county's order kept beyond its sites' orders
# Rough product shares of the campaign's doses, only to size the manufacturers' consignments
# (a short cold room simply receives another consignment).
CONSIGNMENT_SHARES = {"BIBP": 0.45, "CORONAVAC": 0.35, "WIBP": 0.17, "AD5": 0.05, "ZF2001": 0.03}
CONSIGNMENTS_PER_LOT = 1
EXPIRED_LOT = "E202002011"  # the build's lot that expired before the campaign (2021-02-28)
EXPIRED_RECEIVED = dt.datetime(2020, 12, 10, 10, 0, tzinfo=TZ)
EXPIRED_WRITTEN_OFF = dt.datetime(2021, 3, 1, 9, 0, tzinfo=TZ)
# Vials found broken on receipt: (site, its first delivery from this round on).
BROKEN_ON_RECEIPT = (("513328-FIX", 1), ("513332-MOB1", 2), ("513322-MASS", 4))
EXCURSION_SITE = "513323-FIX"  # Danba county-town permanent site
EXCURSION_AFTER = dt.date(2021, 5, 12)  # the first session day of that site from this day
DESK_SITES = ("513301-MASS",)  # where the desk logins (site_manager, vaccinator) work
DESK_DOSES = 200  # of each of today's lots at the desk site (not scaled: the desk's use)
TODAY_ALLOCATION = 2_000  # doses of each of today's lots the prefecture splits among counties
QUARANTINE_PRODUCT = "WIBP"
QUARANTINE_REASON = "市场监管部门抽检通知：该批次待复检，暂停使用（示例）"


def county_store_code(county_code: str) -> str:
    return f"{county_code}-CDC"


@dataclass
class SupplyReport:
    """Figures of the demo's supply chain (part of the build's report)."""

    stores: int = 0
    receipts: int = 0
    transfers: int = 0
    adjustments: int = 0
    readings: int = 0
    excursions: int = 0
    allocations: int = 0
    quarantined_lot: str = ""
    excursion_store: str = ""
    doses_drawn: int = 0
    rounds_seconds: float = 0.0  # wall time of the county rounds (planning and services) in the writer
    rounds_cpu_seconds: float = 0.0  # their CPU time (the writer thread's)
    phases: dict[str, float] = field(default_factory=dict)


class _Stock:
    """What the demo expects one store to hold, product by product, earliest expiry first
    (the services keep the books; this only lets the demo plan its orders)."""

    __slots__ = ("lots",)

    def __init__(self) -> None:
        self.lots: dict[str, list[list[Any]]] = defaultdict(list)  # product -> [[expiry, lot, doses], ...]

    def total(self, product: str) -> int:
        return sum(entry[2] for entry in self.lots.get(product, ()))

    def add(self, product: str, expiry: dt.date, lot: str, doses: int) -> None:
        entries = self.lots[product]
        for entry in entries:
            if entry[1] == lot:
                entry[2] += doses
                return
        entries.append([expiry, lot, doses])
        entries.sort()

    def take(self, product: str, doses: int, *, usable: Any = None) -> list[tuple[str, int]]:
        """Remove ``doses`` earliest expiry first; returns [(lot, doses)]. ``usable`` filters lots."""
        taken: list[tuple[str, int]] = []
        entries = self.lots.get(product, [])
        for entry in entries:
            if doses <= 0:
                break
            if entry[2] <= 0 or (usable is not None and not usable(entry[1])):
                continue
            n = min(doses, entry[2])
            entry[2] -= n
            doses -= n
            taken.append((entry[1], n))
        if doses > 0:
            raise RuntimeError(f"demo supply: {doses} doses of {product} short")
        self.lots[product] = [e for e in entries if e[2] > 0]
        return taken

    def take_one(self, product: str) -> str:
        entries = self.lots[product]
        if not entries:
            raise RuntimeError(f"demo supply: no dose of {product} left")
        entry = entries[0]
        entry[2] -= 1
        if entry[2] == 0:
            entries.pop(0)
        return entry[1]


class DemoSupply:
    """Plans and writes the demo's supply chain through the supply services (see the module
    docstring); ``DemoBuilder`` calls it at each step of the build."""

    def __init__(self, builder: DemoBuilder) -> None:
        self.b = builder
        self.report = SupplyReport()
        self.rng = random.Random(f"{builder.seed}-supply")
        self.stock: dict[str, _Stock] = defaultdict(_Stock)
        self.lot_meta: dict[str, tuple[str, dt.date, dt.date, str]] = {}  # lot -> product, expiry, released, maker
        self.consignments: dict[str, int] = defaultdict(int)  # lot -> consignments received
        self.administered: dict[str, int] = defaultdict(int)  # lot -> doses given
        self.officers: dict[str, Any] = {}  # county code -> its supply officer
        self.broken: set[str] = set()  # sites whose delivery had a broken vial
        total = sum(_targets(builder.scale))
        self.consignment = {
            code: max(10, math.ceil(total * share / _lots_of(code) / CONSIGNMENTS_PER_LOT / 10) * 10)
            for code, share in CONSIGNMENT_SHARES.items()
        }

    # ---- reference data

    def build_stores(self) -> None:
        """The stores, inserted directly with the sites (reference data)."""
        from vaxops.campaign.demo import COUNTIES, PREFECTURE

        w, ids = self.b.w, self.b.division_ids
        next_id = w.next_id(Store)
        rows: list[tuple] = []
        self.store_ids: dict[str, int] = {}

        def add(code: str, zh: str, en: str, level: int, division: int, county: str, site: int | None,
                parent: str | None, equipment: str) -> None:
            nonlocal next_id
            self.store_ids[code] = next_id
            rows.append((next_id, code, zh, en, level, division, county, site,
                         self.store_ids[parent] if parent else None, equipment, False, True))
            next_id += 1

        add(*PREFECTURE_STORE, StoreLevel.PREFECTURE, ids[PREFECTURE[0]], "", None, None, EquipmentClass.COLD_ROOM)
        for fact in COUNTIES:
            add(county_store_code(fact.code), f"{fact.name_zh}疾控中心疫苗库", f"{fact.name_en} CDC vaccine store",
                StoreLevel.COUNTY, ids[fact.code], fact.code, None, PREFECTURE_STORE[0], EquipmentClass.COLD_ROOM)
        for info in self.b.sites.values():
            zh, en = self.b.site_names[info.code]
            if info.kind == SiteKind.MASS_SITE:
                equipment, level, zh_s, en_s = EquipmentClass.COLD_ROOM, StoreLevel.SITE, "冷库", "cold room"
            elif info.kind in (SiteKind.MOBILE_TEAM, SiteKind.POINT_TO_POINT):
                equipment, zh_s, en_s = EquipmentClass.COLD_BOX, "冷藏箱", "cold box"
                level = StoreLevel.TEAM if info.kind == SiteKind.MOBILE_TEAM else StoreLevel.SITE
            else:
                equipment, level, zh_s, en_s = EquipmentClass.REFRIGERATOR, StoreLevel.SITE, "疫苗冰箱", "refrigerator"
            add(info.code, f"{zh}{zh_s}", f"{en} {en_s}", level, info.division_id, info.county_code, info.id,
                county_store_code(info.county_code), equipment)
        w.insert(Store, ["id", "code", "name_zh", "name_en", "level", "division", "county_code", "site", "parent",
                         "equipment_class", "on_hold", "is_active"], rows)
        self.report.stores = len(rows)

    def note_lots(self, lots: list[tuple[str, str, dt.date, dt.date | None, str]]) -> None:
        """(product, lot, expiry, released on, maker) of the build's lots."""
        for product, lot, expiry, released, maker in lots:
            self.lot_meta[lot] = (product, expiry, released or expiry, maker)

    def set_officers(self, county_officers: dict[str, int]) -> None:
        User = get_user_model()
        users = {u.username: u for u in User.objects.filter(
            username__in=["supply_officer", "county_supply", "supervisor", "prefecture_command"])}
        by_pk = User.objects.in_bulk(list(county_officers.values()))
        self.officers = {county: by_pk[pk] for county, pk in county_officers.items()}
        self.officers["513301"] = users["county_supply"]  # Kangding's officer is the demo login
        self.prefecture_officer = users["supply_officer"]
        self.supervisor = users["supervisor"]
        self.command = users["prefecture_command"]

    # ---- before the campaign

    def open(self) -> None:
        """The prefecture's first consignments (every lot out by the first round), and the
        lot that expired before the campaign: received in December, written off in March."""
        from vaxops.supply.services import adjust_stock

        first_dispatch = _round_start(0) - dt.timedelta(days=3)
        for lot, (product, _expiry, released, _maker) in sorted(self.lot_meta.items(), key=lambda x: x[1][2]):
            if lot.startswith("DEMO-") or lot == EXPIRED_LOT or product not in self.consignment:
                continue
            if released <= first_dispatch:
                self._receive(lot, self.consignment[product])
        product = self.lot_meta[EXPIRED_LOT][0]
        n = self.consignment[product] // 10 or 10
        self._receive(EXPIRED_LOT, n, at=EXPIRED_RECEIVED)
        adjust_stock(client_uuid=self._uuid(), store_code=PREFECTURE_STORE[0], lot_number=EXPIRED_LOT, doses=n,
                     reason="expired", note="有效期至2021-02-28，未使用，按规定报废", occurred_at=EXPIRED_WRITTEN_OFF,
                     acting_user=self.prefecture_officer, source="cli")
        self.stock[PREFECTURE_STORE[0]].take(product, n, usable=lambda lot: lot == EXPIRED_LOT)
        self.report.adjustments += 1

    def _receive(self, lot: str, doses: int, *, at: dt.datetime | None = None) -> None:
        from vaxops.supply.services import receive_shipment

        product, expiry, released, maker = self.lot_meta[lot]
        self.consignments[lot] += 1
        k = self.consignments[lot]
        at = at or dt.datetime.combine(released, dt.time(10, 30), tzinfo=TZ)
        receive_shipment(
            client_uuid=self._uuid(), store_code=PREFECTURE_STORE[0], product_code=product, lot_number=lot,
            expiry_date=expiry, doses=doses, manufacturer=maker, release_certificate=f"SG{lot}",
            arrival_temperature_c=round(self.rng.uniform(3.0, 6.5), 1), occurred_at=at,
            document_number=f"RCV-{lot}-{k}", acting_user=self.prefecture_officer, source="cli",
        )
        self.stock[PREFECTURE_STORE[0]].add(product, expiry, lot, doses)
        self.report.receipts += 1

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # ---- a county's campaign

    def county(self, plan: CountyPlan, doses: list[tuple[dt.datetime, str, str]]) -> CountySupply:
        """The supply of one county whose doses are ``doses`` ((time, site code, product), in
        time order): written round by round as ``CountySupply.before`` is called."""
        return CountySupply(self, plan, doses)

    def _transfer(self, from_code: str, to_code: str, lines: list[tuple[str, int]], *, sent: dt.datetime,
                  arrived: dt.datetime, sender: Any, receiver: Any, rejected: int = 0, document: str) -> Transfer:
        """Dispatch and receive one transfer (proof of delivery); ``rejected`` doses of its
        first line arrive broken."""
        from vaxops.supply.services import ReceiptLineIn, TransferLineIn, dispatch_transfer, receive_transfer

        transfer, _ = dispatch_transfer(
            client_uuid=self._uuid(), from_store_code=from_code, to_store_code=to_code,
            lines=[TransferLineIn(lot, n) for lot, n in lines], occurred_at=sent, document_number=document,
            acting_user=sender, source="cli",
        )
        received = [ReceiptLineIn(lot, n) for lot, n in lines]
        if rejected:
            lot, n = lines[0]
            received[0] = ReceiptLineIn(lot, n - rejected, rejected, "broken")
        receive_transfer(
            transfer_id=transfer.pk, lines=received, arrival_temperature_c=round(self.rng.uniform(3.0, 7.0), 1),
            delivered_by=_driver(from_code), occurred_at=arrived, acting_user=receiver, source="cli",
        )
        self.report.transfers += 1
        return transfer

    def prefecture_lines(self, product: str, doses: int, day: dt.date) -> list[tuple[str, int]]:
        """``doses`` of ``product`` out of the prefecture's cold room, earliest expiry first among
        the lots received by ``day``; a short cold room first receives a consignment of the
        newest lot released by then."""
        store = self.stock[PREFECTURE_STORE[0]]

        def usable(lot: str) -> bool:
            return self.lot_meta[lot][2] <= day

        have = sum(e[2] for e in store.lots.get(product, ()) if usable(e[1]))
        if have < doses:
            newest = max((lot for lot, m in self.lot_meta.items()
                          if m[0] == product and m[2] <= day and not lot.startswith("DEMO-") and lot != EXPIRED_LOT),
                         key=lambda lot: (self.lot_meta[lot][2], lot))
            self._receive(newest, max(doses - have, self.consignment[product]))
        return store.take(product, doses, usable=usable)

    # ---- today

    def close(self) -> None:
        """Today's lots to the desk site (through an allocation among the counties), then one
        campaign lot quarantined by the supervisor."""
        from vaxops.supply.allocations import approve_allocation, propose_allocation
        from vaxops.supply.lots import quarantine_lot
        from vaxops.supply.models import StockBalance
        from vaxops.supply.services import ReceiptLineIn, TransferLineIn, dispatch_transfer, receive_transfer

        now = timezone.now()
        desk_lots = sorted(lot for lot in self.lot_meta if lot.startswith("DEMO-"))
        per_lot = TODAY_ALLOCATION + DESK_DOSES
        for lot in desk_lots:
            self._receive(lot, per_lot, at=now - dt.timedelta(hours=3))
        supply = {self.lot_meta[lot][0]: TODAY_ALLOCATION for lot in desk_lots}
        allocation = propose_allocation(from_store_code=PREFECTURE_STORE[0], supply=supply,
                                        acting_user=self.prefecture_officer, source="cli")
        transfers = approve_allocation(allocation_id=allocation.pk, acting_user=self.command, source="cli")
        self.report.allocations += 1
        for transfer in transfers:
            county = transfer.to_store.county_code
            lines = [ReceiptLineIn(line.lot.lot_number, line.doses)
                     for line in transfer.lines.select_related("lot")]
            receive_transfer(transfer_id=transfer.pk, lines=lines,
                             arrival_temperature_c=round(self.rng.uniform(3.0, 7.0), 1),
                             delivered_by=_driver(PREFECTURE_STORE[0]), acting_user=self.officers[county],
                             source="cli")
            self.report.transfers += 1
        for site_code in DESK_SITES:
            county = self.b.sites[site_code].county_code
            county_store = county_store_code(county)
            on_hand = dict(StockBalance.objects.filter(store__code=county_store, lot__lot_number__in=desk_lots)
                           .values_list("lot__lot_number", "on_hand"))
            short = [TransferLineIn(lot, DESK_DOSES - on_hand.get(lot, 0)) for lot in desk_lots
                     if on_hand.get(lot, 0) < DESK_DOSES]
            if short:  # the allocation left the desk's county short of a product: topped up
                transfer, _ = dispatch_transfer(client_uuid=self._uuid(), from_store_code=PREFECTURE_STORE[0],
                                                to_store_code=county_store, lines=short,
                                                acting_user=self.prefecture_officer, source="cli")
                receive_transfer(transfer_id=transfer.pk, lines=[ReceiptLineIn(x.lot_number, x.doses) for x in short],
                                 arrival_temperature_c=5.0, delivered_by=_driver(PREFECTURE_STORE[0]),
                                 acting_user=self.officers[county], source="cli")
                self.report.transfers += 1
            transfer, _ = dispatch_transfer(client_uuid=self._uuid(), from_store_code=county_store,
                                            to_store_code=site_code,
                                            lines=[TransferLineIn(lot, DESK_DOSES) for lot in desk_lots],
                                            acting_user=self.officers[county], source="cli")
            receive_transfer(transfer_id=transfer.pk, lines=[ReceiptLineIn(lot, DESK_DOSES) for lot in desk_lots],
                             arrival_temperature_c=4.5, delivered_by=_driver(county_store),
                             acting_user=self.officers[county], source="cli")
            self.report.transfers += 1
        # The quarantined lot: the campaign lot of the product given most, with stock left.
        left = {lot for stock in self.stock.values() for entries in stock.lots.values() for _e, lot, n in entries if n}
        candidates = [lot for lot, n in self.administered.items()
                      if n and self.lot_meta[lot][0] == QUARANTINE_PRODUCT and lot in left]
        candidates = candidates or [lot for lot, n in self.administered.items() if n]
        lot = max(candidates, key=lambda x: (self.administered[x], x))
        quarantine_lot(lot_number=lot, product_code=self.lot_meta[lot][0], reason=QUARANTINE_REASON,
                       acting_user=self.supervisor, source="cli")
        self.report.quarantined_lot = lot


class CountySupply:
    """One county's rounds: orders planned from the county's doses, written as the county
    writer reaches each round, and the lot of each dose from its site's stock."""

    def __init__(self, supply: DemoSupply, plan: CountyPlan, doses: list[tuple[dt.datetime, str, str]]) -> None:
        self.s, self.plan = supply, plan
        self.code = plan.fact.code
        self.store = county_store_code(self.code)
        # round -> site -> product -> doses
        self.needs: dict[int, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
        self.site_days: dict[str, set[dt.date]] = defaultdict(set)
        for at, site, product in doses:
            day = at.date()
            self.needs[_round_of(day)][site][product] += 1
            self.site_days[site].add(day)
        self.done = -1
        # The excursion: the night after a session day of Danba's county-town site from
        # EXCURSION_AFTER on (at a small scale, where the site may give no dose that late, its
        # middle session day; or the county's refrigerator with the most session days).
        self.excursion_day: dt.date | None = None
        self.excursion_site = ""
        if self.code == EXCURSION_SITE.split("-")[0]:
            fridges = {site: sorted(days) for site, days in self.site_days.items()
                       if supply.b.sites[site].kind not in (SiteKind.MOBILE_TEAM, SiteKind.POINT_TO_POINT)}
            if fridges:
                site = EXCURSION_SITE if EXCURSION_SITE in fridges else max(fridges, key=lambda x: (len(fridges[x]), x))
                days = fridges[site]
                later = [d for d in days if d >= EXCURSION_AFTER]
                self.excursion_site, self.excursion_day = site, later[0] if later else days[len(days) // 2]

    def before(self, day: dt.date) -> None:
        """Write every round up to the one of ``day``, before its doses."""
        target = _round_of(day)
        started, cpu = time.perf_counter(), time.thread_time()
        while self.done < target:
            self.done += 1
            if self.done in self.needs:
                self._round(self.done)
        self.s.report.rounds_seconds += time.perf_counter() - started
        self.s.report.rounds_cpu_seconds += time.thread_time() - cpu

    def _round(self, r: int) -> None:
        s = self.s
        start = _round_start(r)
        needs = self.needs[r]
        ahead = [self.needs.get(r + k, {}) for k in range(SITE_COVER_ROUNDS)]
        orders: dict[str, dict[str, int]] = {}
        for site, products in sorted(needs.items()):
            stock = s.stock[site]
            if all(stock.total(product) >= need for product, need in products.items()):
                continue
            # A delivery tops every product up to this round's and the next rounds' doses,
            # with a small buffer: the site is not delivered again before then.
            cover: dict[str, int] = defaultdict(int)
            for round_needs in ahead:
                for product, n in round_needs.get(site, {}).items():
                    cover[product] += n
            for product, n in sorted(cover.items()):
                want = n + math.ceil(SITE_BUFFER * n) - stock.total(product)
                if want > 0:
                    orders.setdefault(site, {})[product] = want
        if not orders:
            return
        broken = {site for site, since in BROKEN_ON_RECEIPT if since <= r and site in orders} - self.s.broken
        self.s.broken |= broken
        county_stock = s.stock[self.store]
        totals: dict[str, int] = defaultdict(int)
        for products in orders.values():
            for product, n in products.items():
                totals[product] += n
        extra = {product: 1 for site in broken for product in list(orders[site])[:1]}
        request: list[tuple[str, int]] = []
        for product in sorted(totals):
            want = totals[product] + extra.get(product, 0)
            have = county_stock.total(product)
            if have < want:
                request.append((product, want + math.ceil(COUNTY_BUFFER * want) - have))
        officer = s.officers[self.code]
        if request:
            # The mass-site counties are served a day before the others.
            lead = 3 if self.plan.fact.mass_site else 2
            sent_day = start - dt.timedelta(days=lead)
            lines = []
            for product, n in request:
                for lot, k in s.prefecture_lines(product, n, sent_day):
                    lines.append((lot, k))
                    county_stock.add(product, s.lot_meta[lot][1], lot, k)
            s._transfer(PREFECTURE_STORE[0], self.store, _merge(lines),
                        sent=dt.datetime.combine(sent_day, dt.time(8, 30), tzinfo=TZ),
                        arrived=dt.datetime.combine(sent_day, dt.time(16, 0), tzinfo=TZ),
                        sender=s.prefecture_officer, receiver=officer, document=f"DSP-{self.code}-{r:02d}")
        sent = dt.datetime.combine(start - dt.timedelta(days=1), dt.time(9, 0), tzinfo=TZ)
        for site, products in sorted(orders.items()):
            lines = []
            rejected = 0
            for i, (product, n) in enumerate(sorted(products.items())):
                if site in broken and i == 0:
                    rejected = 1
                    n += 1
                for lot, k in county_stock.take(product, n):
                    lines.append((lot, k))
                    s.stock[site].add(product, s.lot_meta[lot][1], lot, k)
            if rejected:
                # The first line's first lot: one vial broken in the box, back on the county's books.
                lot, _k = lines[0]
                product = s.lot_meta[lot][0]
                s.stock[site].take(product, 1, usable=lambda x, lot=lot: x == lot)
            arrived = sent + dt.timedelta(hours=5 if s.b.sites[site].kind == SiteKind.MOBILE_TEAM else 3)
            s._transfer(self.store, site, lines, sent=sent, arrived=arrived, sender=officer, receiver=officer,
                        rejected=rejected, document=f"DSP-{site}-{r:02d}")
            if rejected:
                self._write_off_broken(lines[0][0], arrived + dt.timedelta(minutes=30))

    def _write_off_broken(self, lot: str, at: dt.datetime) -> None:
        from vaxops.supply.services import adjust_stock

        adjust_stock(client_uuid=self.s._uuid(), store_code=self.store, lot_number=lot, doses=1, reason="broken",
                     note="到货时西林瓶破损 1 支（拒收退回）", occurred_at=at, acting_user=self.s.officers[self.code],
                     source="cli")
        self.s.report.adjustments += 1

    def lot_for(self, site: str, product: str) -> str:
        lot = self.s.stock[site].take_one(product)
        self.s.administered[lot] += 1
        self.s.report.doses_drawn += 1
        return lot

    def after(self, day: dt.date) -> None:
        """The excursion night at its site, after the day's session."""
        if day != self.excursion_day:
            return
        from vaxops.supply.coldchain import record_temperatures, review_excursion

        s = self.s
        rng = random.Random(f"{s.b.seed}-excursion")
        start = dt.datetime.combine(day - dt.timedelta(days=2), dt.time(0, 0), tzinfo=TZ)
        warm_from = dt.datetime.combine(day, dt.time(19, 30), tzinfo=TZ)
        warm_to = warm_from + dt.timedelta(hours=11)  # 06:30: above +8 °C for 11 hours
        end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(7, 30), tzinfo=TZ)
        readings = []
        at = start
        while at <= end:
            if warm_from <= at < warm_to:
                celsius = round(rng.uniform(8.6, 11.8), 1)  # the compressor stopped overnight
            else:
                celsius = round(rng.uniform(3.2, 6.4), 1)
            readings.append((at, celsius))
            at += dt.timedelta(minutes=30)
        accepted, excursions = record_temperatures(store_code=self.excursion_site, readings=readings, kind="logger",
                                                   acting_user=s.officers[self.code], source="cli")
        if not excursions:
            raise RuntimeError("demo supply: the excursion night opened no excursion")
        for excursion in excursions:
            review_excursion(excursion_id=excursion.pk, decision="release", vvm_checked=True,
                             note="VVM 均为第1期，冰箱已修复，温度恢复至2–8 °C，放行（示例）",
                             acting_user=s.supervisor, source="cli")
        s.report.readings += accepted
        s.report.excursions += len(excursions)
        s.report.excursion_store = self.excursion_site


def _round_of(day: dt.date) -> int:
    from vaxops.campaign.demo import CAMPAIGN_START

    return (day - CAMPAIGN_START).days // ROUND_DAYS


def _round_start(r: int) -> dt.date:
    from vaxops.campaign.demo import CAMPAIGN_START

    return CAMPAIGN_START + dt.timedelta(days=ROUND_DAYS * r)


def _targets(scale: float) -> tuple[int, int]:
    from vaxops.campaign.demo import targets

    return targets(scale)


def _lots_of(product: str) -> int:
    from vaxops.campaign.demo import LOT_MONTHS, LOT_SPECS

    return LOT_SPECS[product][2] * len(LOT_MONTHS)


def _driver(from_code: str) -> str:
    return "州疾控冷链运输车（示例）" if from_code == PREFECTURE_STORE[0] else "县疾控冷链配送员（示例）"


def _merge(lines: list[tuple[str, int]]) -> list[tuple[str, int]]:
    merged: dict[str, int] = {}
    for lot, n in lines:
        merged[lot] = merged.get(lot, 0) + n
    return sorted(merged.items())


__all__ = ["PREFECTURE_STORE", "DemoSupply", "SupplyReport", "county_store_code"]
