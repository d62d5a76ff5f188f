"""The demo's second place: Jingxi (靖西市, 451081, Baise, Guangxi) and the Renzhuang day.

The second report of the campaign: on 2021-05-11 at the Renzhuang (壬庄乡) township health
centre, by 10:00 nearly 1,000 people were waiting and 210 had completed vaccination and
observation; 37 staff had been sent from the Baise maternal and child health hospital.

Decisions (the figures a reader may want to check are constants below):

* Divisions are reference data, inserted directly with Ganzi's: the province of Guangxi, the
  prefecture-level city of Baise, the county-level city of Jingxi and its 19 township-level
  units with their real names (9 towns, 10 townships, ``ganzi.md``). The township codes are
  the demo's own (``451081`` + the unit's place in that list, so 壬庄乡 is ``451081011``), not
  the statistical codes. Populations are estimates and stated as such: Jingxi about 520,000
  (``JINGXI_POPULATION``; the census figure was not found), split over the townships by seeded
  weights with the county town 新靖镇 holding 22 %, and over the age bands by Ganzi's census
  structure (for want of Jingxi's). Only Jingxi is modelled, so Baise's and Guangxi's figures
  are Jingxi's (levels add up; Baise's real 2020 census figure is 3,571,505).
* Sites, inserted directly too: the county mass site in 新靖镇 (its venue is not reported:
  labelled synthetic) and one health centre (卫生院) per township; each has its store (a cold
  room at the mass site, a refrigerator at the health centres) under Jingxi's CDC store, under
  Baise's CDC cold room, in the habits of ``demo_supply``.
* The Renzhuang day is the simulator's: replication ``RENZHUANG_REPLICATION`` of
  ``scenarios/sim_renzhuang_2021-05-11.json`` (the first of its 30 whose 10:00 figure is the
  report's 210; the mean is 209.4). Its people are registered residents of Renzhuang (adults,
  synthetic names and valid ID numbers of 451081) and each arrival, registration, dose and
  release happens at the minute the simulator gives, so the board, the site figures and the
  simulator's prediction agree. The vaccine (CoronaVac, one campaign lot) reaches the
  health centre the day before through the supply services: Baise receives it, sends it to
  Jingxi, Jingxi to Renzhuang.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password

from vaxops.access.models import Role, RoleAssignment
from vaxops.campaign.services import TZ
from vaxops.regions.models import Division, Level
from vaxops.sites.models import Site, SiteKind
from vaxops.supply.models import EquipmentClass, Store, StoreLevel

if TYPE_CHECKING:  # pragma: no cover
    from vaxops.campaign.demo import DemoBuilder

PROVINCE = ("450000", "广西壮族自治区", "Guangxi Zhuang Autonomous Region")
BAISE = ("451000", "百色市", "Baise")
JINGXI = ("451081", "靖西市", "Jingxi")
JINGXI_POPULATION = 520_000  # estimate ("about 520,000"; the census figure was not found)
COUNTY_TOWN_SHARE = 0.22  # of Jingxi's people in 新靖镇, the county town (estimate)
# The 19 township-level units: (name, English, town?, a port on the border with Viet Nam?).
TOWNSHIPS: tuple[tuple[str, str, bool, bool], ...] = (
    ("新靖镇", "Xinjing town", True, False),
    ("化峒镇", "Huadong town", True, False),
    ("湖润镇", "Hurun town", True, False),
    ("安德镇", "Ande town", True, False),
    ("龙临镇", "Longlin town", True, False),
    ("渠洋镇", "Quyang town", True, False),
    ("岳圩镇", "Yuexu town", True, True),
    ("龙邦镇", "Longbang town", True, True),
    ("武平镇", "Wuping town", True, False),
    ("同德乡", "Tongde township", False, False),
    ("壬庄乡", "Renzhuang township", False, False),
    ("安宁乡", "Anning township", False, False),
    ("地州乡", "Dizhou township", False, False),
    ("禄峒乡", "Ludong township", False, False),
    ("南坡乡", "Nanpo township", False, False),
    ("吞盘乡", "Tunpan township", False, False),
    ("果乐乡", "Guole township", False, False),
    ("新甲乡", "Xinjia township", False, False),
    ("魁圩乡", "Kuixu township", False, False),
)
RENZHUANG = "451081011"
RENZHUANG_SITE = f"{RENZHUANG}-THC"
MASS_SITE = f"{JINGXI[0]}-MASS"
BAISE_STORE = ("451000-CDC", "百色市疾控中心冷库", "Baise CDC cold room")
JINGXI_STORE = ("451081-CDC", "靖西市疾控中心疫苗库", "Jingxi CDC vaccine store")
# Vaccinator accounts per site (doses name the person who gave them): Renzhuang's four stations.
STAFF_PER_SITE = {MASS_SITE: 10, RENZHUANG_SITE: 4}
STAFF_DEFAULT = 2

RENZHUANG_DAY = dt.date(2021, 5, 11)
RENZHUANG_SCENARIO = Path(settings.BASE_DIR) / "scenarios" / "sim_renzhuang_2021-05-11.json"
RENZHUANG_REPLICATION = 9  # the first replication whose 10:00 figure is the report's 210
RENZHUANG_PRODUCT = "CORONAVAC"
RENZHUANG_SPARE = 0.05  # doses delivered beyond the day's people
RENZHUANG_PLANNED = 800  # the doses the day was planned for (the crowd came anyway)
RENZHUANG_SEATS = 80  # the scenario's observation seats
SERIOUS_AFTER = 9 * 60 + 40  # the serious AEFI's person was vaccinated from 09:40 on
DEPLOYMENT = (dt.date(2021, 5, 8), dt.date(2021, 5, 21))
# Units (code, name, English, kind, hospital level (an assumption), division).
MCH_UNIT = "451000-MCH"
RENZHUANG_UNIT = "451081011-THCU"
UNITS = (
    (MCH_UNIT, "百色市妇幼保健院", "Baise Maternal and Child Health Hospital", "maternal_child_hospital", 2, "451000"),
    ("451081-HOSP", "靖西市人民医院", "Jingxi People's Hospital", "hospital", 2, "451081"),
    (RENZHUANG_UNIT, "壬庄乡卫生院", "Renzhuang township health centre", "health_centre", None, "451081011"),
)
MCH_STAFF = 37
MCH_TEAM = {"doctor": 8, "nurse": 14, "vaccinator": 8, "observer": 5, "driver": 2}  # 37
MCH_ON_DAY = {"doctor": 2, "nurse": 4, "vaccinator": 2, "observer": 2, "driver": 1}  # at Renzhuang that day
RENZHUANG_TEAM = {"vaccinator": 2, "registrar": 4, "nurse": 2, "volunteer": 4}
# Zhuang and Han surnames common in Jingxi (names are synthetic).
SURNAMES = ("黄", "农", "梁", "赵", "李", "陆", "许", "凌", "韦", "覃", "滕", "马", "何", "张", "吕", "林",
            "周", "罗", "岑", "黎")


@dataclass
class JingxiReport:
    """Figures of Jingxi in the build (part of the build's report)."""

    divisions: int = 0
    sites: int = 0
    stores: int = 0
    staff_users: int = 0
    residents: int = 0
    receipts: int = 0
    transfers: int = 0
    visits: int = 0
    doses: int = 0
    released_by_10: int = 0
    phases: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class VisitTimes:
    """One person's day at Renzhuang, as the simulator has it (local times)."""

    arrived: dt.datetime
    screening_started: dt.datetime
    screened: dt.datetime
    vaccinated: dt.datetime
    released: dt.datetime


def _at(minutes: float) -> dt.datetime:
    """A simulator minute of the Renzhuang day as a local time (to the second)."""
    return dt.datetime.combine(RENZHUANG_DAY, dt.time(0), tzinfo=TZ) + dt.timedelta(seconds=round(minutes * 60))


def renzhuang_day() -> list[VisitTimes]:
    """Every person of the Renzhuang day in arrival order, from the simulator (seeded: the
    same list every time). Stages: registration (the screening questions), vaccination,
    observation; a dose is recorded when its vaccination ends."""
    from vaxops.planning.simulation import load_config
    from vaxops.planning.simulation.engine import SiteDay

    config = load_config(RENZHUANG_SCENARIO)
    trace = SiteDay(config, RENZHUANG_REPLICATION).run()
    names = [stage.name for stage in config.stages]
    reg, vac = names.index("registration"), names.index("vaccination")
    people = []
    for i in range(trace.admitted):
        people.append(VisitTimes(
            arrived=_at(trace.arrival[i]),
            screening_started=_at(trace.start[reg][i]),
            screened=_at(trace.start[reg][i] + trace.service[reg][i]),
            vaccinated=_at(trace.start[vac][i] + trace.service[vac][i]),
            released=_at(trace.departure[i]),
        ))
    # Seconds rounding must not reorder a person's own steps.
    for p in people:
        assert p.arrived <= p.screening_started <= p.screened <= p.vaccinated <= p.released
    return people


class DemoJingxi:
    """Builds Jingxi and the Renzhuang day; ``DemoBuilder`` calls it at each step."""

    def __init__(self, builder: DemoBuilder) -> None:
        self.b = builder
        self.report = JingxiReport()
        self.rng = random.Random(f"{builder.seed}-jingxi")
        self.sites: dict[str, tuple[int, int]] = {}  # site code -> (site id, division id)
        self.staff: dict[str, list[int]] = {}  # site code -> vaccinator user ids

    # ---- reference data

    def build_divisions(self) -> None:
        from vaxops.campaign.demo import split_band_counts, split_bands

        rng, w = self.rng, self.b.w
        next_id = w.next_id(Division)
        rows: list[tuple] = []
        bands = split_bands(JINGXI_POPULATION)

        def add(code: str, level: int, parent: tuple[int, str] | None, zh: str, en: str, b: dict[str, int], *,
                border: bool = False, urban: bool = False) -> tuple[int, str]:
            nonlocal next_id
            pk, next_id = next_id, next_id + 1
            path = (parent[1] if parent else "") + code + "/"
            rows.append((pk, code, level, parent[0] if parent else None, path, zh, en, border, urban, False,
                         b["0-2"], b["3-11"], b["12-17"], b["18-59"], b["60+"]))
            return pk, path

        province = add(PROVINCE[0], Level.PROVINCE, None, PROVINCE[1], PROVINCE[2], bands, border=True)
        baise = add(BAISE[0], Level.PREFECTURE, province, BAISE[1], BAISE[2], bands, border=True)
        county = add(JINGXI[0], Level.COUNTY, baise, JINGXI[1], JINGXI[2], bands, border=True)
        rest = [rng.uniform(0.6, 1.4) for _ in TOWNSHIPS[1:]]
        weights = [COUNTY_TOWN_SHARE] + [(1 - COUNTY_TOWN_SHARE) * r / sum(rest) for r in rest]
        for i, ((zh, en, _town, port), t_bands) in enumerate(zip(TOWNSHIPS, split_band_counts(bands, weights),
                                                                  strict=True), start=1):
            add(f"{JINGXI[0]}{i:03d}", Level.TOWNSHIP, county, zh, en, t_bands, border=port, urban=i == 1)
        w.insert(Division, ["id", "code", "level", "parent", "path", "name_zh", "name_en", "is_border",
                            "is_urban", "is_synthetic", "pop_0_2", "pop_3_11", "pop_12_17", "pop_18_59",
                            "pop_60_plus"], rows)
        self.division_ids = {r[1]: r[0] for r in rows}
        self.county_code, self.county_id = JINGXI[0], self.division_ids[JINGXI[0]]
        self.report.divisions = len(rows)

    def build_sites(self) -> None:
        """The mass site, the health centres and their vaccinator accounts."""
        w, ids = self.b.w, self.division_ids
        next_id = w.next_id(Site)
        rows: list[tuple] = []
        self.names: dict[str, tuple[str, str]] = {}

        def add(code: str, kind: str, zh: str, en: str, division: str) -> None:
            nonlocal next_id
            rows.append((next_id, code, zh, en, kind, ids[division], JINGXI[0], True))
            self.sites[code] = (next_id, ids[division])
            self.names[code] = (zh, en)
            next_id += 1

        add(MASS_SITE, SiteKind.MASS_SITE, "靖西市城区大规模临时接种点（示例）",
            "Jingxi county-town mass vaccination site (synthetic)", f"{JINGXI[0]}001")
        for i, (zh, en, _town, _port) in enumerate(TOWNSHIPS, start=1):
            add(f"{JINGXI[0]}{i:03d}-THC", SiteKind.TOWNSHIP_HEALTH_CENTRE, f"{zh}卫生院",
                f"{en.replace(' town', '').replace(' township', '')} {'town' if _town else 'township'} health centre",
                f"{JINGXI[0]}{i:03d}")
        w.insert(Site, ["id", "code", "name_zh", "name_en", "kind", "division", "county_code", "is_active"], rows)
        self.report.sites = len(rows)

        User = get_user_model()
        unusable = make_password(None)
        users = [User(username=f"{code.lower()}-v{n:02d}", password=unusable)
                 for code in self.sites for n in range(1, STAFF_PER_SITE.get(code, STAFF_DEFAULT) + 1)]
        users += [User(username=f"{BAISE[0]}-supply", password=unusable),
                  User(username=f"{JINGXI[0]}-supply", password=unusable),
                  User(username=f"{BAISE[0]}-command", password=unusable),
                  User(username=f"{BAISE[0]}-cdc", password=unusable)]
        User.objects.bulk_create(users, batch_size=500)
        by_name = dict(User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk"))
        assignments = []
        for code, (site_id, _division) in self.sites.items():
            self.staff[code] = [by_name[f"{code.lower()}-v{n:02d}"]
                                for n in range(1, STAFF_PER_SITE.get(code, STAFF_DEFAULT) + 1)]
            assignments += [RoleAssignment(user_id=pk, role=Role.VACCINATOR, site_id=site_id) for pk in self.staff[code]]
        self.officer_ids = {BAISE[0]: by_name[f"{BAISE[0]}-supply"], JINGXI[0]: by_name[f"{JINGXI[0]}-supply"]}
        for code, pk in self.officer_ids.items():
            assignments.append(RoleAssignment(user_id=pk, role=Role.SUPPLY_OFFICER, division_id=self.division_ids[code]))
        # Baise's command (it sends the support team) and its CDC supervisor (AEFI classification).
        self.command_id, self.supervisor_id = by_name[f"{BAISE[0]}-command"], by_name[f"{BAISE[0]}-cdc"]
        assignments.append(RoleAssignment(user_id=self.command_id, role=Role.PREFECTURE_COMMAND,
                                          division_id=self.division_ids[BAISE[0]]))
        assignments.append(RoleAssignment(user_id=self.supervisor_id, role=Role.SUPERVISOR,
                                          division_id=self.division_ids[BAISE[0]]))
        RoleAssignment.objects.bulk_create(assignments, batch_size=500)
        self.report.staff_users = len(users)

    def build_stores(self) -> None:
        """Baise's CDC cold room, Jingxi's CDC store and one store per site (reference data)."""
        w, ids = self.b.w, self.division_ids
        next_id = w.next_id(Store)
        rows: list[tuple] = []
        store_ids: dict[str, int] = {}

        def add(code: str, zh: str, en: str, level: int, division: int, county: str, site: int | None,
                parent: str | None, equipment: str) -> None:
            nonlocal next_id
            store_ids[code] = next_id
            rows.append((next_id, code, zh, en, level, division, county, site,
                         store_ids[parent] if parent else None, equipment, False, True))
            next_id += 1

        add(*BAISE_STORE, StoreLevel.PREFECTURE, ids[BAISE[0]], "", None, None, EquipmentClass.COLD_ROOM)
        add(*JINGXI_STORE, StoreLevel.COUNTY, ids[JINGXI[0]], JINGXI[0], None, BAISE_STORE[0], EquipmentClass.COLD_ROOM)
        for code, (site_id, division_id) in self.sites.items():
            zh, en = self.names[code]
            if code == MASS_SITE:
                equipment, zh_s, en_s = EquipmentClass.COLD_ROOM, "冷库", "cold room"
            else:
                equipment, zh_s, en_s = EquipmentClass.REFRIGERATOR, "疫苗冰箱", "refrigerator"
            add(code, f"{zh}{zh_s}", f"{en} {en_s}", StoreLevel.SITE, division_id, JINGXI[0], site_id,
                JINGXI_STORE[0], equipment)
        w.insert(Store, ["id", "code", "name_zh", "name_en", "level", "division", "county_code", "site", "parent",
                         "equipment_class", "on_hold", "is_active"], rows)
        self.report.stores = len(rows)

    # ---- the Renzhuang day

    def write(self, registrar: Any) -> None:
        """Residents and vaccine of the Renzhuang day, the support team, then the day itself: its
        session opened through the gate, every dose through the dose path, the visits replayed,
        the session closed with its figures."""
        people = renzhuang_day()
        self.people = people
        self.person_ids = self.register_residents(registrar, people)
        self.lot = self.supply_renzhuang(len(people))
        self.staff_and_deployment()
        self.replay_day()
        self.report.released_by_10 = sum(p.released <= _at(600) for p in people)
        self.b.clock.done("jingxi", f"Jingxi: {self.report.divisions} divisions, {self.report.sites} sites, "
                                    f"{MCH_STAFF} staff deployed from the Baise MCH hospital; the Renzhuang day: "
                                    f"{self.report.visits:,} visits, {self.report.doses:,} doses (lot {self.lot}), "
                                    f"{self.report.released_by_10} released by 10:00")

    def staff_and_deployment(self) -> None:
        """The Baise maternal and child health hospital's 37 staff deployed to Jingxi, and the
        health centre's own team (``staff.services``)."""
        from vaxops.staff.services import add_qualifications, create_staff_many, create_unit, deploy

        User = get_user_model()
        admin = User.objects.get(username="admin")
        for code, zh, en, kind, level, division in UNITS:
            create_unit(code=code, name_zh=zh, name_en=en, kind=kind, hospital_level=level, division_code=division,
                        acting_user=admin, source="cli")
        rng = random.Random(f"{self.b.seed}-jingxi-staff")
        rows = [{"name": _zhuang_name(rng, rng.choice("MF")), "role": role, "unit_code": unit}
                for unit, team in ((MCH_UNIT, MCH_TEAM), (RENZHUANG_UNIT, RENZHUANG_TEAM))
                for role, n in team.items() for _ in range(n)]
        staff = create_staff_many(rows, acting_user=admin, source="cli")
        self.mch = [m.pk for m in staff if m.unit.code == MCH_UNIT]
        own = [m for m in staff if m.unit.code == RENZHUANG_UNIT]
        add_qualifications([{"staff": m.pk, "kind": "vaccination_training", "product_code": RENZHUANG_PRODUCT,
                             "valid_until": dt.date(2021, 12, 31)} for m in staff if m.role == "vaccinator"],
                           acting_user=admin, source="cli")
        command = User.objects.get(pk=self.command_id)
        deploy(self.mch, to_division=JINGXI[0], starts_on=DEPLOYMENT[0], ends_on=DEPLOYMENT[1],
               reason="百色市妇幼保健院派出37名医务人员支援靖西市新冠病毒疫苗接种（示例）", acting_user=command,
               source="cli")
        # The day's roster: the centre's team and part of the support team.
        by_role: dict[str, list[int]] = {}
        for m in staff:
            if m.unit.code == MCH_UNIT:
                by_role.setdefault(m.role, []).append(m.pk)
        self.roster = [m.pk for m in own] + [pk for role, n in MCH_ON_DAY.items() for pk in by_role.get(role, [])[:n]]

    def replay_day(self) -> None:
        from vaxops.vaccination.batch import DoseItem, record_doses
        from vaxops.visits.services import replay_visits, set_stations

        ops = self.b.site_days
        clerk = ops.clerk(JINGXI[0])
        session = ops._create(clerk, [{"site": RENZHUANG_SITE, "date": RENZHUANG_DAY, "kind": "fixed",
                                           "opens_at": dt.time(8, 0), "closes_at": dt.time(17, 0),
                                           "planned_doses": RENZHUANG_PLANNED, "products": [RENZHUANG_PRODUCT]}])[0]
        ops._roster(session, self.roster, clerk)
        ops._ready([session], clerk, seats=RENZHUANG_SEATS)
        set_stations(session, {"screening": 4, "vaccination": 4, "observation": RENZHUANG_SEATS}, acting_user=clerk,
                     at=_at(7 * 60 + 30), source="cli")
        ops._open([session], clerk, RENZHUANG_DAY, at=_at(7 * 60 + 40))
        self.session = session
        # The doses through the dose path, one batch per station (its vaccinator), each sent
        # at its last dose (live: the session is open).
        rng = random.Random(f"{self.b.seed}-renzhuang-doses")
        keys = [uuid.UUID(int=rng.getrandbits(128), version=4) for _ in self.people]
        order = sorted(range(len(self.people)), key=lambda i: (self.people[i].vaccinated, i))
        vaccinators = get_user_model().objects.in_bulk(self.staff[RENZHUANG_SITE])
        dose_of: dict[int, int] = {}
        for station, user_id in enumerate(self.staff[RENZHUANG_SITE]):
            mine = order[station::len(self.staff[RENZHUANG_SITE])]
            items = [DoseItem(client_uuid=keys[i], product_code=RENZHUANG_PRODUCT, lot_number=self.lot,
                              site_code=RENZHUANG_SITE, administered_at=self.people[i].vaccinated,
                              person_id=self.person_ids[i], dose_number=1) for i in mine]
            outcomes = record_doses(items, acting_user=vaccinators[user_id], source="cli",
                                    now=items[-1].administered_at)
            refused = [o for o in outcomes if o.status != "created"]
            if refused:
                raise RuntimeError(f"the dose service refused {len(refused)} Renzhuang doses: {refused[0].code} "
                                   f"{refused[0].error and refused[0].error.detail}")
            for i, o in zip(mine, outcomes, strict=True):
                dose_of[i] = o.record.pk
        self.dose_of = dose_of
        self.report.doses = len(dose_of)
        observation = dt.timedelta(minutes=30)
        rows = []
        for i, p in enumerate(self.people):
            row = {"session_id": session.pk, "person_id": self.person_ids[i], "client_uuid": self._uuid(),
                   "checked_in_at": p.arrived, "screened_at": p.screened, "outcome": "pass", "dose_id": dose_of[i]}
            if i == self.hospital_visit:
                row["left_at"] = p.vaccinated + dt.timedelta(minutes=25)  # to the county hospital by ambulance
            else:
                row["released_at"] = max(p.released, p.vaccinated + observation)
            rows.append(row)
        self.report.visits = replay_visits(rows, acting_user=clerk, source="cli")
        ops.close(session, clerk, at=max(p.released for p in self.people) + dt.timedelta(minutes=15))

    @property
    def hospital_visit(self) -> int:
        """The person of the serious AEFI (anaphylaxis in observation after 09:40): taken to hospital."""
        cached = self.__dict__.get("_hospital_visit")
        if cached is None:
            cached = self.__dict__["_hospital_visit"] = next(
                i for i, p in enumerate(self.people) if p.vaccinated >= _at(SERIOUS_AFTER))
        return cached

    # ---- the Renzhuang day: people and vaccine

    def register_residents(self, registrar: Any, people: list[VisitTimes]) -> list[int]:
        """One registered resident of Renzhuang per person of the day (through the registry's
        batch service, as the demo's admin); returns their ids in the day's order."""
        from vaxops.campaign.demo import SEX_RATIO, birth_date_for_age, synthetic_phone
        from vaxops.registry.batch import PersonItem, register_people
        from vaxops.registry.idnumber import make_id_number

        rng = random.Random(f"{self.b.seed}-renzhuang-people")
        used: set[str] = set()
        items = []
        for _ in people:
            sex = "M" if rng.random() < SEX_RATIO / (100 + SEX_RATIO) else "F"
            # May 2021: adults 18-59 first, older people coming in.
            age = rng.randint(18, 59) if rng.random() < 0.8 else rng.randint(60, 80)
            birth = birth_date_for_age(rng, age, RENZHUANG_DAY)
            while True:
                number = make_id_number(JINGXI[0], birth, 2 * rng.randrange(500) + (1 if sex == "M" else 0))
                if number not in used:
                    used.add(number)
                    break
            items.append(PersonItem(id_number=number, name=_zhuang_name(rng, sex), phone=synthetic_phone(rng),
                                    division_code=RENZHUANG))
        outcomes = register_people(items, acting_user=registrar, source="cli")
        refused = [o for o in outcomes if o.status != "created"]
        if refused:
            raise RuntimeError(f"the registry refused {len(refused)} Renzhuang residents: {refused[0].code}")
        self.report.residents = len(outcomes)
        return [o.person.pk for o in outcomes]

    def supply_renzhuang(self, doses: int) -> str:
        """The day's vaccine to the health centre through the supply services; returns the lot."""
        from vaxops.supply.services import (
            ReceiptLineIn,
            TransferLineIn,
            dispatch_transfer,
            receive_shipment,
            receive_transfer,
        )

        s = self.b.supply
        User = get_user_model()
        officers = User.objects.in_bulk(list(self.officer_ids.values()))
        baise, jingxi = officers[self.officer_ids[BAISE[0]]], officers[self.officer_ids[JINGXI[0]]]
        # The earliest-expiring campaign lot of the product released well before the day.
        lot = min((lot for lot, (product, _e, released, _m) in s.lot_meta.items()
                   if product == RENZHUANG_PRODUCT and not lot.startswith("DEMO-") and lot != "E202002011"
                   and released <= RENZHUANG_DAY - dt.timedelta(days=10)),
                  key=lambda x: (s.lot_meta[x][1], x))
        product, expiry, _released, maker = s.lot_meta[lot]
        n = doses + round(RENZHUANG_SPARE * doses)
        day = RENZHUANG_DAY
        receive_shipment(
            client_uuid=self._uuid(), store_code=BAISE_STORE[0], product_code=product, lot_number=lot,
            expiry_date=expiry, doses=n, manufacturer=maker, release_certificate=f"SG{lot}",
            arrival_temperature_c=4.6, occurred_at=dt.datetime.combine(day - dt.timedelta(days=5), dt.time(10, 0), tzinfo=TZ),
            document_number=f"RCV-{BAISE[0]}-{lot}", acting_user=baise, source="cli",
        )
        self.report.receipts += 1
        legs = ((baise, BAISE_STORE[0], JINGXI_STORE[0], 3, 9, "百色市疾控冷链运输车（示例）"),
                (jingxi, JINGXI_STORE[0], RENZHUANG_SITE, 1, 8, "靖西市疾控冷链配送员（示例）"))
        for sender, src, dst, days_before, hour, driver in legs:
            sent = dt.datetime.combine(day - dt.timedelta(days=days_before), dt.time(hour, 0), tzinfo=TZ)
            transfer, _ = dispatch_transfer(client_uuid=self._uuid(), from_store_code=src, to_store_code=dst,
                                            lines=[TransferLineIn(lot, n)], occurred_at=sent,
                                            document_number=f"DSP-{dst}-{day:%Y%m%d}", acting_user=sender,
                                            source="cli")
            receive_transfer(transfer_id=transfer.pk, lines=[ReceiptLineIn(lot, n)], arrival_temperature_c=5.1,
                             delivered_by=driver,
                             occurred_at=sent + dt.timedelta(hours=4), acting_user=jingxi, source="cli")
            self.report.transfers += 1
        return lot

    def _uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)


def _zhuang_name(rng: random.Random, sex: str) -> str:
    from vaxops.campaign.demo import _HAN_FEMALE, _HAN_MALE

    given = _HAN_MALE if sex == "M" else _HAN_FEMALE
    name = rng.choice(SURNAMES) + rng.choice(given)
    return name + rng.choice(given) if rng.random() < 0.7 else name


__all__ = ["DemoJingxi", "JingxiReport", "RENZHUANG_SITE", "VisitTimes", "renzhuang_day"]
