"""The demo scenario: Ganzi prefecture's 2021 COVID-19 campaign, replayed through the rules.

``build_demo`` fills an empty database with the Ganzi Tibetan Autonomous Prefecture (the 18 real
counties with their 2020 census populations, synthetic townships, villages and grids), its
sites, vaccine lots, residents and every dose given from the start of the campaign to the
figures reported for 2021-06-01 19:00 (甘孜日报, 2021-06-03): 373,657 doses, 330,123 people
with a first dose, 43,534 with a second dose. ``scale`` multiplies people and doses; the
first- and second-dose figures are exactly ``round(N * scale)`` at every scale.

Decisions (the figures a reader may want to check are constants below):

* Campaign window: first doses from 2021-03-22 (the start of the mass phase in Sichuan) to
  2021-06-01; no dose after 2021-06-01 19:00, doses between 08:00 and 18:00 local time.
* Residents: everyone vaccinated plus ``UNVACCINATED_SHARE`` (15 %) of that number registered
  but not yet vaccinated (85 % adults, older people over-represented; 15 % aged 12-17, who
  become eligible on 2021-07-01), so grid workers' lists have people on them.
* Counties get first and second doses in proportion to population (largest remainder), so the
  prefecture totals are exact. The two mass sites (Kangding, Luding gymnasiums) give
  ``MASS_DOSES`` first doses on ``MASS_DAYS``; the rest of each county's first doses ramp up
  over the campaign (daily volume ~ (day + 3)^p, p chosen per county so enough people are
  early enough to have had their second dose). Second doses go to the people whose first dose
  was earliest (with some noise), 21-35 days later for most, a few later than the due-by day.
* Every dose is checked with ``catalog.rules.assess`` (the rule the dose service uses) with the
  person's birth date and dose history while it is planned; a dose the rules refuse stops the
  build. Then everything that is a fact of the campaign goes through the one write path of
  its kind: residents through ``registry.batch.register_people`` (one batch per county, as
  the demo's admin), doses through ``vaccination.batch.record_doses`` (one batch per county
  and day, entered by the county's records clerk: the next morning, within the retrospective
  window, for a day without sessions (a past day's doses are not live work and need no open
  session); at the day's last dose, into the open sessions, for the gymnasiums' mass days and
  the report day: ``demo_sites``). The services keep the dose counters
  and write the audit events; a dose or resident they refuse stops the build. The reference
  data (divisions, sites, lots, staff accounts) is inserted directly, as a data load would,
  and one audit event ("demo.build") records the build.
* Place names below the county are synthetic and labelled so ("（示例）", "(synthetic)");
  county codes, names, populations and provincial borders are real.
* The site-days: staff, rosters, deployments and the sessions opened through the readiness
  gate (``demo_sites``); the second report's place, Jingxi, and its Renzhuang day replayed as
  visits (``demo_jingxi``); a handful of synthetic AEFI (``demo_aefi``). Their divisions, sites,
  stores and acting accounts are reference data too. See docs/demo_sites.md.
"""

from __future__ import annotations

import datetime as dt
import gc
import math
import queue
import random
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from vaxops.access.models import ApiToken, Role, RoleAssignment
from vaxops.campaign.demo_aefi import report_demo_aefi
from vaxops.campaign.demo_jingxi import DemoJingxi, JingxiReport
from vaxops.campaign.demo_sites import REGISTER_ENTERED_AT, REPORT_DAY, DemoSites, SitesReport
from vaxops.campaign.demo_supply import DemoSupply, SupplyReport
from vaxops.campaign.models import DoseCounter, ResidenceCounter
from vaxops.campaign.services import TZ
from vaxops.catalog import rules
from vaxops.catalog.models import Product
from vaxops.core.audit import audit
from vaxops.core.models import AuditEvent
from vaxops.regions.models import Division, Level, age_band
from vaxops.registry.batch import PersonItem, register_people
from vaxops.registry.idnumber import make_id_number
from vaxops.registry.models import Person
from vaxops.sites.models import Session, SessionKind, Site, SiteKind
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.models import DoseRecord

# -- the scenario's facts -----------------------------------------------------------------

REPORTED_FIRST = 330_123
REPORTED_SECOND = 43_534
REPORTED_TOTAL = REPORTED_FIRST + REPORTED_SECOND  # 373,657: only doses 1 and 2 were given
REPORT_AT = dt.datetime(2021, 6, 1, 19, 0, tzinfo=TZ)
CAMPAIGN_START = dt.date(2021, 3, 22)
CAMPAIGN_END = REPORT_AT.date()
OPENING_HOURS = (dt.time(8, 0), dt.time(18, 0))
_OPEN_SECONDS = (OPENING_HOURS[1].hour - OPENING_HOURS[0].hour) * 3600
MASS_DAYS = tuple(dt.date(2021, 5, d) for d in range(27, 32))
MASS_DAY_WEIGHTS = (0.8, 1.0, 1.1, 1.1, 1.0)
MASS_DOSES = 29_400  # "nearly 30,000 doses in a short time" at the two gymnasiums
UNIVERSITY_STUDENTS = 6_000  # vaccinated at the point-to-point site of Sichuan Minzu College
UNVACCINATED_SHARE = 0.15
DEFAULT_SEED = 20210601
DEFAULT_SCALE = 1.0

PREFECTURE_TOWNSHIPS = 289
MIN_TOWNSHIPS_PER_COUNTY = 6
KANGDING = "513301"
KANGDING_OLD_CODE = "513321"  # Kangding was a county until 2015; older ID numbers carry it
KANGDING_OLD_CODE_SHARE = 0.7
SEX_RATIO = 105.98  # males per 100 females (2020 census, prefecture)

PROVINCE = ("510000", "四川省", "Sichuan")
PREFECTURE = ("513300", "甘孜藏族自治州", "Garze Tibetan Autonomous Prefecture")


@dataclass(frozen=True)
class CountyFact:
    code: str
    name_zh: str
    name_en: str
    population_2020: int
    borders: tuple[str, ...]
    mass_site: bool


# 2020 census (第七次全国人口普查); the 18 figures add up to the prefecture's 1,107,431.
COUNTIES: tuple[CountyFact, ...] = (
    CountyFact("513301", "康定市", "Kangding", 126_785, (), True),
    CountyFact("513322", "泸定县", "Luding", 84_204, (), True),
    CountyFact("513323", "丹巴县", "Danba", 49_872, (), False),
    CountyFact("513324", "九龙县", "Jiulong", 53_738, (), False),
    CountyFact("513325", "雅江县", "Yajiang", 51_162, (), False),
    CountyFact("513326", "道孚县", "Dawu", 53_378, (), False),
    CountyFact("513327", "炉霍县", "Luhuo", 47_185, (), False),
    CountyFact("513328", "甘孜县", "Garze", 72_698, (), False),
    CountyFact("513329", "新龙县", "Xinlong", 45_698, (), False),
    CountyFact("513330", "德格县", "Dege", 88_542, ("Tibet",), False),
    CountyFact("513331", "白玉县", "Baiyu", 59_524, ("Tibet",), False),
    CountyFact("513332", "石渠县", "Shiqu", 103_633, ("Tibet", "Qinghai"), False),
    CountyFact("513333", "色达县", "Serta", 64_681, ("Qinghai",), False),
    CountyFact("513334", "理塘县", "Litang", 67_293, (), False),
    CountyFact("513335", "巴塘县", "Batang", 49_967, ("Tibet", "Yunnan"), False),
    CountyFact("513336", "乡城县", "Xiangcheng", 31_407, ("Yunnan",), False),
    CountyFact("513337", "稻城县", "Daocheng", 32_916, (), False),
    CountyFact("513338", "得荣县", "Derong", 24_748, ("Yunnan",), False),
)

# Census age structure of the prefecture: 0-14 22.99 %, 15-59 65.65 %, 60+ 11.37 %. The
# broad groups are split into the census bands the targets use, evenly per year of age
# (0-14 is 15 one-year cohorts, 15-59 is 45).
_PER_YEAR_0_14 = 22.99 / 15
_PER_YEAR_15_59 = 65.65 / 45
BAND_SHARES: dict[str, float] = {
    "0-2": 3 * _PER_YEAR_0_14,
    "3-11": 9 * _PER_YEAR_0_14,
    "12-17": 3 * _PER_YEAR_0_14 + 3 * _PER_YEAR_15_59,
    "18-59": 42 * _PER_YEAR_15_59,
    "60+": 11.37,
}
BAND_FIELDS = {"0-2": "pop_0_2", "3-11": "pop_3_11", "12-17": "pop_12_17", "18-59": "pop_18_59", "60+": "pop_60_plus"}
# Share of 60+ among vaccinated adults relative to the census share: in spring 2021 the
# campaign put 18-59 first and older people came later and more cautiously.
OLDER_WEIGHT_VACCINATED = 0.55
OLDER_WEIGHT_UNVACCINATED = 1.8

# Tibetan-style names in most counties, Han names mainly in Luding and Kangding.
TIBETAN_SHARE = {"513301": 0.5, "513322": 0.12, "513324": 0.45}
TIBETAN_SHARE_DEFAULT = 0.9

# Point-to-point sessions at monasteries (neutral, synthetic names): county -> number of sites.
TEMPLE_SITES = {"513333": 2, "513328": 1, "513334": 1, "513330": 1}
MONASTIC_SHARE = 0.06  # of the vaccinated in those counties

# Priority groups of the general vaccinated population: (code, share); the rest have none.
GROUP_SHARES: tuple[tuple[str, float], ...] = (
    ("medical_staff", 0.012),
    ("cold_chain_staff", 0.002),
    ("public_service", 0.025),
    ("teachers", 0.015),
)
BORDER_STAFF_SHARE = 0.0005  # provincial-border checkpoints, only in border counties
EARLY_GROUPS = frozenset({"medical_staff", "border_port_staff", "cold_chain_staff"})

# Product mix. Mass sites were supplied with the two main inactivated products; mobile teams
# used the one-dose Ad5 vector vaccine more often (herders are hard to find twice).
INACTIVATED_MIX = (("BIBP", 0.45), ("CORONAVAC", 0.35), ("WIBP", 0.20))
AD5_SHARE = {"mobile_team": 0.25, "default": 0.03}
ZF2001_SHARE = 0.03
PRODUCT_SWITCH_SHARE = 0.03  # second dose with another inactivated product (supply ran short)

# Staff accounts per site kind (vaccinators; the desk login "vaccinator" is one of them).
STAFF_PER_KIND = {
    SiteKind.MASS_SITE: 20, SiteKind.FIXED_SITE: 3, SiteKind.TOWNSHIP_HEALTH_CENTRE: 2,
    SiteKind.MOBILE_TEAM: 2, SiteKind.POINT_TO_POINT: 2,
}
SESSION_KIND = {SiteKind.MOBILE_TEAM: SessionKind.MOBILE, SiteKind.POINT_TO_POINT: SessionKind.POINT_TO_POINT}

# Lots: product -> (number format, manufacturer (zh), lots per month, shelf life in months).
LOT_SPECS: dict[str, tuple[str, str, int, int]] = {
    "BIBP": ("{ym}B{n:04d}", "北京生物制品研究所有限责任公司", 3, 24),
    "WIBP": ("{ym}W{n:04d}", "武汉生物制品研究所有限责任公司", 2, 24),
    "CORONAVAC": ("E{ym}{n:03d}", "北京科兴中维生物技术有限公司", 3, 24),
    "AD5": ("NCOV{ym}{n:03d}", "康希诺生物股份公司", 1, 24),
    "ZF2001": ("Z{ym}{n:03d}", "安徽智飞龙科马生物制药有限公司", 1, 24),
}
LOT_MONTHS = ((2021, 1), (2021, 2), (2021, 3), (2021, 4))
LOT_RELEASE_DAYS = 45  # from the month of manufacture to batch release and delivery

# Demo logins: username, role, scope (division or site code), password.
DEMO_USERS: tuple[tuple[str, str, str], ...] = (
    ("prefecture_command", Role.PREFECTURE_COMMAND, "513300"),
    ("county_command", Role.COUNTY_COMMAND, "513301"),
    ("site_manager", Role.SITE_MANAGER, "513301-MASS"),
    ("vaccinator", Role.VACCINATOR, "513301-MASS"),
    ("grid_worker", Role.GRID_WORKER, "513301001"),
    ("supply_officer", Role.SUPPLY_OFFICER, "513300"),
    ("county_supply", Role.SUPPLY_OFFICER, "513301"),
    ("supervisor", Role.SUPERVISOR, "513300"),
    ("admin", Role.ADMIN, ""),
    # Jingxi (demo_jingxi): its county command and the Renzhuang health centre's manager.
    ("jingxi_command", Role.COUNTY_COMMAND, "451081"),
    ("renzhuang_manager", Role.SITE_MANAGER, "451081011-THC"),
)
TOKEN_USERS = ("vaccinator", "prefecture_command")
BUILD_ACTION = "demo.build"


def demo_password(role: str) -> str:
    """The documented password of a demo login (public by design: this is a demo)."""
    return f"demo-{role}"


def targets(scale: float) -> tuple[int, int]:
    """First-dose and second-dose people at ``scale``: each exactly ``round(N * scale)``."""
    return round(REPORTED_FIRST * scale), round(REPORTED_SECOND * scale)


# -- pure helpers -------------------------------------------------------------------------


def apportion(total: int, weights: Sequence[float]) -> list[int]:
    """Split ``total`` into integers proportional to ``weights`` (largest remainder).

    The parts always add up to ``total``; ties go to the earlier weight so the result is
    reproducible.
    """
    if total < 0:
        raise ValueError("total must not be negative")
    weight_sum = float(sum(weights))
    if weight_sum <= 0:
        if total:
            raise ValueError("cannot apportion a positive total over zero weights")
        return [0] * len(weights)
    quotas = [total * w / weight_sum for w in weights]
    parts = [math.floor(q) for q in quotas]
    short = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(quotas[i] - parts[i]), i))
    for i in by_remainder[:short]:
        parts[i] += 1
    return parts


def uptake_factor(fact: CountyFact, seed: int) -> float:
    """How far a county's doses run ahead of or behind its share of the population.

    Doses follow population, tilted as the report describes: the two mass-site counties were
    supplied first and border counties were favoured; the rest varies by a seeded ±15 %, so the
    coverage chart shows counties that lead and counties that lag.
    """
    rng = random.Random(f"{seed}-{fact.code}")
    factor = rng.uniform(0.85, 1.15)
    if fact.mass_site:
        factor *= 1.10
    if fact.borders:
        factor *= 1.05
    return factor


def split_bands(population: int) -> dict[str, int]:
    """A population split into the census age bands by the prefecture's age structure."""
    return dict(zip(BAND_SHARES, apportion(population, list(BAND_SHARES.values())), strict=True))


def split_band_counts(bands: dict[str, int], weights: Sequence[float]) -> list[dict[str, int]]:
    """Split every band of a parent over children by ``weights``; each band sums exactly."""
    per_band = {band: apportion(count, weights) for band, count in bands.items()}
    return [{band: per_band[band][i] for band in bands} for i in range(len(weights))]


def ramp_days(total: int, days: Sequence[dt.date], power: float) -> list[int]:
    """Doses per day that grow over the campaign: weight (day index + 3) ** power."""
    return apportion(total, [(i + 3) ** power for i in range(len(days))])


_TIBETAN_FIRST = ("扎西", "次仁", "格桑", "洛绒", "泽仁", "尼玛", "达瓦", "四郎", "降措", "益西",
                  "土登", "丹增", "贡布", "呷绒", "阿旺", "群培", "彭措", "嘎玛", "索朗", "根秋")
_TIBETAN_MALE = ("多吉", "旺堆", "平措", "扎西", "邓珠", "降村", "顿珠", "罗布", "格勒", "泽仁",
                 "曲扎", "尼玛", "江措", "刀登", "呷玛", "登巴")
_TIBETAN_FEMALE = ("卓玛", "拉姆", "央金", "措姆", "曲珍", "志玛", "拥措", "翁姆", "娜姆", "央宗",
                   "巴姆", "德吉", "益珍", "拉珍", "斯郎", "泽西")
_HAN_SURNAMES = ("王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙", "胡", "朱",
                 "高", "林", "何", "郭", "马", "罗", "梁", "宋", "郑", "谢", "韩", "唐", "冯", "邓",
                 "曹", "彭", "曾", "袁", "蒋", "蔡", "余", "杜", "叶", "程", "魏", "苏")
_HAN_MALE = ("伟", "强", "军", "勇", "杰", "涛", "明", "超", "刚", "平", "辉", "鹏", "华", "飞", "鑫",
             "波", "斌", "宇", "浩", "凯", "健", "俊", "帆", "旭", "宁", "龙", "林", "阳", "建", "国",
             "成", "德", "文", "志", "海")
_HAN_FEMALE = ("芳", "娜", "敏", "静", "丽", "艳", "娟", "霞", "秀", "玲", "桂", "英", "萍", "燕",
               "红", "梅", "琳", "雪", "慧", "婷", "洁", "倩", "瑶", "兰", "月", "琴", "晶", "颖",
               "玉", "佳")
_PHONE_PREFIXES = ("38", "39", "58", "59", "87", "88", "82", "36", "33", "53", "80", "81", "89",
                   "99", "77", "73", "98", "57")


def synthetic_name(rng: random.Random, sex: str, tibetan_share: float) -> str:
    """A plausible synthetic name: Tibetan-style (two two-character parts) or Han."""
    if rng.random() < tibetan_share:
        return rng.choice(_TIBETAN_FIRST) + rng.choice(_TIBETAN_MALE if sex == "M" else _TIBETAN_FEMALE)
    given = _HAN_MALE if sex == "M" else _HAN_FEMALE
    name = rng.choice(_HAN_SURNAMES) + rng.choice(given)
    return name + rng.choice(given) if rng.random() < 0.7 else name


def synthetic_phone(rng: random.Random) -> str:
    """An 11-digit mobile number, or "" for the ~10 % (mostly older people) without one."""
    if rng.random() < 0.1:
        return ""
    return f"1{rng.choice(_PHONE_PREFIXES)}{rng.randrange(10**8):08d}"


def birth_date_for_age(rng: random.Random, age: int, on: dt.date) -> dt.date:
    """A birth date of someone exactly ``age`` on ``on``, kept a few days away from a birthday
    so the age does not change by rounding near the bounds."""
    years = age + rng.uniform(0.01, 0.99)
    return on - dt.timedelta(days=int(years * 365.2425))


# -- the in-memory plan -------------------------------------------------------------------


@dataclass
class SiteInfo:
    id: int
    code: str
    kind: str
    division_id: int
    county_code: str
    staff: list[int] = field(default_factory=list)


@dataclass
class CountyPlan:
    """What the builder knows about one county while it plans people and doses."""

    fact: CountyFact
    division_id: int
    townships: list[str] = field(default_factory=list)  # township codes
    urban_townships: set[str] = field(default_factory=set)
    grids: list[int] = field(default_factory=list)  # grid division ids
    grid_codes: list[str] = field(default_factory=list)  # grid division codes
    grid_township: list[str] = field(default_factory=list)  # township code per grid
    grid_adults: list[int] = field(default_factory=list)
    grid_urban: list[bool] = field(default_factory=list)
    thc: dict[str, SiteInfo] = field(default_factory=dict)  # township code -> health centre
    mass: SiteInfo | None = None
    fixed: SiteInfo | None = None
    mobile: list[SiteInfo] = field(default_factory=list)
    temples: list[tuple[SiteInfo, str]] = field(default_factory=list)  # site, township code
    university: tuple[SiteInfo, str] | None = None


@dataclass
class DemoReport:
    """Figures of one build, written into the build's audit event and printed by the command."""

    scale: float
    seed: int
    divisions: int = 0
    sites: int = 0
    lots: int = 0
    staff_users: int = 0
    persons: int = 0
    vaccinated: int = 0
    unvaccinated: int = 0
    first_dose_people: int = 0
    second_dose_people: int = 0
    doses: int = 0
    sessions: int = 0
    counter_rows: int = 0
    overdue_doses: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    supply: SupplyReport = field(default_factory=SupplyReport)
    jingxi: JingxiReport = field(default_factory=JingxiReport)
    site_days: SitesReport = field(default_factory=SitesReport)
    aefi: dict[str, Any] = field(default_factory=dict)
    # the later steps' figures, by part (outreach, targets, appointments, reports …): JSON values
    later: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        figures = dict(self.__dict__.items())
        figures["supply"] = dict(self.supply.__dict__.items())
        figures["jingxi"] = dict(self.jingxi.__dict__.items())
        figures["site_days"] = dict(self.site_days.__dict__.items())
        return figures


Progress = Callable[[str], None]


class _Clock:
    """Phase timing for the console: "[ 12.3s] phase  what (1.2s)"."""

    def __init__(self, progress: Progress, report: DemoReport) -> None:
        self.progress, self.report = progress, report
        self.start = self.mark = time.perf_counter()
        self.cpu_mark = time.process_time()

    def done(self, phase: str, what: str) -> None:
        # CPU time (all threads of the process) beside wall time: on a shared machine the
        # wall time also measures the neighbours.
        now, cpu = time.perf_counter(), time.process_time()
        self.report.phases[phase] = round(now - self.mark, 2)
        self.report.cpu_seconds = round(self.report.cpu_seconds + cpu - self.cpu_mark, 2)
        self.progress(f"[{now - self.start:6.1f}s] {phase:<10} {what} ({now - self.mark:.1f}s, cpu {cpu - self.cpu_mark:.1f}s)")
        self.mark, self.cpu_mark = now, cpu


# -- writing reference rows in bulk ---------------------------------------------------------


class _Writer:
    """Inserts reference rows (divisions, sites) with explicit primary keys through one
    prepared INSERT (executemany); people and doses go through their services instead.
    Values must already be in database form."""

    BATCH = 20_000

    def __init__(self) -> None:
        self.ops = connection.ops
        self.touched: list[type[models.Model]] = []

    def next_id(self, model: type[models.Model]) -> int:
        top = model.objects.aggregate(top=models.Max("pk"))["top"]
        return (top or 0) + 1

    def insert(self, model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
        meta = model._meta
        quote = self.ops.quote_name
        columns = ", ".join(quote(meta.get_field(f).column) for f in fields)
        sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({', '.join(['%s'] * len(fields))})"
        with connection.cursor() as cursor:
            for start in range(0, len(rows), self.BATCH):
                cursor.executemany(sql, rows[start:start + self.BATCH])
        if model not in self.touched:
            self.touched.append(model)

    def reset_sequences(self) -> None:
        """After explicit ids, PostgreSQL's sequences must move past them (no-op on SQLite)."""
        statements = self.ops.sequence_reset_sql(no_style(), self.touched)
        if statements:
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)


# -- the builder --------------------------------------------------------------------------


class DemoBuilder:
    """Plans and writes the demo; see the module docstring for the scenario."""

    def __init__(self, *, scale: float, seed: int, progress: Progress) -> None:
        if scale <= 0:
            raise ValueError("scale must be positive")
        self.scale, self.seed = scale, seed
        self.rng = random.Random(seed)
        self.report = DemoReport(scale=scale, seed=seed)
        self.clock = _Clock(progress, self.report)
        self.w = _Writer()
        self.now = timezone.now()
        self.counties: list[CountyPlan] = []
        self.sites: dict[str, SiteInfo] = {}
        self.recorders: dict[str, int] = {}  # county code -> the county's records clerk (user id)
        self.lots: dict[str, list[tuple[dt.date, int, str]]] = {}  # product -> (available from, id, number)
        self.products: dict[str, Product] = {p.code: p for p in Product.objects.all()}
        self.rules = {code: p.rule for code, p in self.products.items()}
        self._opens: dict[dt.date, dt.datetime] = {}  # day -> its opening time (TZ)
        self.site_names: dict[str, tuple[str, str]] = {}
        self.supply_officers: dict[str, int] = {}  # county code -> the county's supply officer (user id)
        self.supply = DemoSupply(self)
        self.report.supply = self.supply.report
        self.jingxi = DemoJingxi(self)
        self.report.jingxi = self.jingxi.report
        self.site_days = DemoSites(self)
        self.report.site_days = self.site_days.report
        missing = {"BIBP", "WIBP", "CORONAVAC", "AD5", "ZF2001"} - set(self.products)
        if missing:
            raise RuntimeError(f"products missing from the catalogue: {', '.join(sorted(missing))}")

    # ---- reference data

    def build_divisions(self) -> None:
        """Province, prefecture, the 18 counties, synthetic townships, villages and grids."""
        rng, w = self.rng, self.w
        next_id = w.next_id(Division)
        rows: list[tuple] = []
        county_bands = [split_bands(c.population_2020) for c in COUNTIES]
        prefecture_bands = {b: sum(cb[b] for cb in county_bands) for b in BAND_SHARES}

        def add(code: str, level: int, parent: tuple[int, str] | None, zh: str, en: str, bands: dict[str, int],
                *, border: bool = False, urban: bool = False, synthetic: bool = False) -> tuple[int, str]:
            nonlocal next_id
            pk, next_id = next_id, next_id + 1
            path = (parent[1] if parent else "") + code + "/"
            rows.append((
                pk, code, level, parent[0] if parent else None, path, zh, en, border, urban, synthetic,
                bands["0-2"], bands["3-11"], bands["12-17"], bands["18-59"], bands["60+"],
            ))
            return pk, path

        # Only Ganzi is modelled, so the province's figures are the prefecture's (levels add up).
        province = add(PROVINCE[0], Level.PROVINCE, None, PROVINCE[1], PROVINCE[2], prefecture_bands)
        prefecture = add(PREFECTURE[0], Level.PREFECTURE, province, PREFECTURE[1], PREFECTURE[2], prefecture_bands)
        township_counts = [
            MIN_TOWNSHIPS_PER_COUNTY + n
            for n in apportion(PREFECTURE_TOWNSHIPS - MIN_TOWNSHIPS_PER_COUNTY * len(COUNTIES),
                               [c.population_2020 for c in COUNTIES])
        ]
        for fact, bands, n_townships in zip(COUNTIES, county_bands, township_counts, strict=True):
            county_ref = add(fact.code, Level.COUNTY, prefecture, fact.name_zh, fact.name_en, bands,
                             border=bool(fact.borders))
            plan = CountyPlan(fact=fact, division_id=county_ref[0])
            self.counties.append(plan)
            # The county town: Kangding's two street offices, one town elsewhere, hold ~30 %.
            n_urban = 2 if fact.code == KANGDING else 1
            urban_weights = [0.25, 0.15] if n_urban == 2 else [0.30]
            rural = [rng.uniform(0.5, 1.5) for _ in range(n_townships - n_urban)]
            rural_total = sum(rural)
            weights = urban_weights + [0.7 * r / rural_total for r in rural]
            for t, t_bands in enumerate(split_band_counts(bands, weights), start=1):
                urban = t <= n_urban
                t_code = f"{fact.code}{t:03d}"
                unit_zh = "街道" if urban and fact.code == KANGDING else ("镇" if urban else "乡")
                unit_en = "street" if urban and fact.code == KANGDING else ("town" if urban else "township")
                t_ref = add(t_code, Level.TOWNSHIP, county_ref, f"{fact.name_zh}第{t}{unit_zh}（示例）",
                            f"{fact.name_en} {unit_en} {t} (synthetic)", t_bands, urban=urban, synthetic=True)
                plan.townships.append(t_code)
                if urban:
                    plan.urban_townships.add(t_code)
                n_villages = rng.randint(3, 5) if urban else rng.randint(3, 6)
                v_weights = [rng.uniform(0.6, 1.4) for _ in range(n_villages)]
                for v, v_bands in enumerate(split_band_counts(t_bands, v_weights), start=1):
                    v_code = f"{t_code}{v:03d}"
                    v_zh, v_en = ("社区", "community") if urban else ("村", "village")
                    v_ref = add(v_code, Level.VILLAGE, t_ref, f"{fact.name_zh}第{t}{unit_zh}第{v}{v_zh}（示例）",
                                f"{fact.name_en} T{t} {v_en} {v} (synthetic)", v_bands, urban=urban, synthetic=True)
                    n_grids = 3 if urban else 2
                    g_weights = [rng.uniform(0.7, 1.3) for _ in range(n_grids)]
                    for g, g_bands in enumerate(split_band_counts(v_bands, g_weights), start=1):
                        g_ref = add(f"{v_code}{g:03d}", Level.GRID, v_ref,
                                    f"{fact.name_zh}第{t}{unit_zh}第{v}{v_zh}第{g}网格（示例）",
                                    f"{fact.name_en} T{t} V{v} grid {g} (synthetic)", g_bands,
                                    urban=urban, synthetic=True)
                        plan.grids.append(g_ref[0])
                        plan.grid_codes.append(f"{v_code}{g:03d}")
                        plan.grid_township.append(t_code)
                        plan.grid_adults.append(g_bands["18-59"] + g_bands["60+"])
                        plan.grid_urban.append(urban)
        w.insert(Division, ["id", "code", "level", "parent", "path", "name_zh", "name_en", "is_border",
                            "is_urban", "is_synthetic", "pop_0_2", "pop_3_11", "pop_12_17", "pop_18_59",
                            "pop_60_plus"], rows)
        self.division_ids = {r[1]: r[0] for r in rows}
        self.report.divisions = len(rows)
        self.clock.done("divisions", f"{len(rows):,} divisions, {sum(township_counts)} townships")

    def build_sites(self) -> None:
        """Mass, permanent, health-centre, mobile and point-to-point sites, and their staff."""
        rows: list[tuple] = []
        next_id = self.w.next_id(Site)
        ids = self.division_ids

        def add(plan: CountyPlan, code: str, kind: str, zh: str, en: str, division_code: str) -> SiteInfo:
            nonlocal next_id
            info = SiteInfo(next_id, code, kind, ids[division_code], plan.fact.code)
            next_id += 1
            rows.append((info.id, code, zh, en, kind, info.division_id, plan.fact.code, True))
            self.sites[code] = info
            self.site_names[code] = (zh, en)
            return info

        for plan in self.counties:
            f = plan.fact
            town = plan.townships[0]
            if f.mass_site:
                plan.mass = add(plan, f"{f.code}-MASS", SiteKind.MASS_SITE, f"{f.name_zh}体育馆大规模接种点",
                                f"{f.name_en} Gymnasium mass vaccination site", town)
            else:
                plan.fixed = add(plan, f"{f.code}-FIX", SiteKind.FIXED_SITE, f"{f.name_zh}县城常设接种点",
                                 f"{f.name_en} county-town permanent site", town)
            for i, t_code in enumerate(plan.townships, start=1):
                urban = t_code in plan.urban_townships
                zh = f"{f.name_zh}第{i}{'街道社区卫生服务中心' if urban else '乡镇卫生院'}（示例）"
                en = f"{f.name_en} {'community health centre' if urban else 'township health centre'} {i} (synthetic)"
                plan.thc[t_code] = add(plan, f"{t_code}-THC", SiteKind.TOWNSHIP_HEALTH_CENTRE, zh, en, t_code)
            for k in range(1, max(1, math.ceil(len(plan.townships) / 10)) + 1):
                plan.mobile.append(add(plan, f"{f.code}-MOB{k}", SiteKind.MOBILE_TEAM, f"{f.name_zh}流动接种队{k}",
                                       f"{f.name_en} mobile team {k}", f.code))
            if f.code == KANGDING:
                # Sichuan Minzu College (四川民族学院) is in Kangding, outside the main street offices.
                t_code = plan.townships[2]
                site = add(plan, f"{f.code}-P2P-UNIV", SiteKind.POINT_TO_POINT, "四川民族学院点对点接种点",
                           "Sichuan Minzu College point-to-point site", t_code)
                plan.university = (site, t_code)
            for k in range(1, TEMPLE_SITES.get(f.code, 0) + 1):
                t_code = plan.townships[1 + k]
                site = add(plan, f"{f.code}-P2P-T{k}", SiteKind.POINT_TO_POINT, f"{f.name_zh}寺庙点对点接种点{k}（示例）",
                           f"{f.name_en} monastery point-to-point site {k} (synthetic)", t_code)
                plan.temples.append((site, t_code))
        self.w.insert(Site, ["id", "code", "name_zh", "name_en", "kind", "division", "county_code", "is_active"], rows)
        self.report.sites = len(rows)

        # One staff account per vaccinator post; they cannot log in (unusable password) but
        # every dose names the person who gave it, as the service requires.
        User = get_user_model()
        unusable = make_password(None)
        staff: list[tuple[SiteInfo, Any]] = []
        for info in self.sites.values():
            for n in range(1, STAFF_PER_KIND[SiteKind(info.kind)] + 1):
                staff.append((info, User(username=f"{info.code.lower()}-v{n:02d}", password=unusable)))
        User.objects.bulk_create([u for _, u in staff], batch_size=500)
        by_name = dict(User.objects.filter(username__in=[u.username for _, u in staff]).values_list("username", "pk"))
        assignments = []
        for info, user in staff:
            info.staff.append(by_name[user.username])
            assignments.append(RoleAssignment(user_id=by_name[user.username], role=Role.VACCINATOR, site_id=info.id))
        # Each county's records clerk enters the day's registers of all its sites (a vaccinator
        # over the county): the doses are recorded one batch per county and day.
        clerks = [User(username=f"{plan.fact.code}-records", password=unusable) for plan in self.counties]
        User.objects.bulk_create(clerks)
        by_name = dict(User.objects.filter(username__in=[u.username for u in clerks]).values_list("username", "pk"))
        for plan in self.counties:
            self.recorders[plan.fact.code] = by_name[f"{plan.fact.code}-records"]
            assignments.append(RoleAssignment(user_id=self.recorders[plan.fact.code], role=Role.VACCINATOR,
                                              division_id=plan.division_id))
        # Each county's supply officer runs its CDC store and its sites' deliveries (Kangding's
        # is the demo login "county_supply", created with the other logins).
        officers = [User(username=f"{plan.fact.code}-supply", password=unusable) for plan in self.counties
                    if plan.fact.code != KANGDING]
        User.objects.bulk_create(officers)
        by_name = dict(User.objects.filter(username__in=[u.username for u in officers]).values_list("username", "pk"))
        for plan in self.counties:
            if plan.fact.code != KANGDING:
                self.supply_officers[plan.fact.code] = by_name[f"{plan.fact.code}-supply"]
                assignments.append(RoleAssignment(user_id=self.supply_officers[plan.fact.code],
                                                  role=Role.SUPPLY_OFFICER, division_id=plan.division_id))
        RoleAssignment.objects.bulk_create(assignments, batch_size=500)
        self.report.staff_users = len(staff) + len(clerks) + len(officers)
        self.clock.done("sites", f"{len(rows):,} sites, {len(staff):,} staff accounts")

    def build_lots(self) -> None:
        """Released lots of every product, plus one quarantined and one expired lot."""
        lots: list[Lot] = []
        available_from: dict[str, dt.date] = {}  # lot number -> first day it may be used
        # (product, lot, expiry, released, manufacturer) of the lots the supply chain moves.
        self.supply_lots: list[tuple[str, str, dt.date, dt.date, str]] = []
        serial = 0
        for code, (fmt, maker, per_month, shelf) in LOT_SPECS.items():
            for year, month in LOT_MONTHS:
                for _ in range(per_month):
                    serial += 1
                    # Distinct running numbers (disjoint ranges per lot) with a random step: unique.
                    number = fmt.format(ym=f"{year}{month:02d}", n=100 + 7 * serial + self.rng.randrange(7))
                    made = dt.date(year, month, 1)
                    expiry = dt.date(year + shelf // 12, month, 1) - dt.timedelta(days=1)
                    lots.append(Lot(product=self.products[code], lot_number=number, manufacturer=maker,
                                    expiry_date=expiry, status=LotStatus.RELEASED))
                    available_from[number] = made + dt.timedelta(days=LOT_RELEASE_DAYS)
                    self.supply_lots.append((code, number, expiry, available_from[number], maker))
        # The desk must be able to show these errors: a lot on hold and an expired lot.
        lots.append(Lot(product=self.products["BIBP"], lot_number="202104B9901", manufacturer=LOT_SPECS["BIBP"][1],
                        expiry_date=dt.date(2023, 3, 31), status=LotStatus.QUARANTINED))
        lots.append(Lot(product=self.products["CORONAVAC"], lot_number="E202002011",
                        manufacturer=LOT_SPECS["CORONAVAC"][1], expiry_date=dt.date(2021, 2, 28),
                        status=LotStatus.RELEASED))
        # The campaign's lots have long expired by the day someone opens the demo; one fresh lot
        # per product (not used by the replay) lets the site desk record a dose today.
        today = self.now.astimezone(TZ).date()
        for code, (_fmt, maker, _per_month, _shelf) in LOT_SPECS.items():
            lots.append(Lot(product=self.products[code], lot_number=f"DEMO-{code}-{today:%Y%m}",
                            manufacturer=maker, expiry_date=today + dt.timedelta(days=365),
                            status=LotStatus.RELEASED))
            self.supply_lots.append((code, lots[-1].lot_number, lots[-1].expiry_date, today, maker))
        self.supply_lots.append(("CORONAVAC", "E202002011", dt.date(2021, 2, 28), dt.date(2020, 12, 10),
                                 LOT_SPECS["CORONAVAC"][1]))
        self.supply.note_lots(self.supply_lots)
        Lot.objects.bulk_create(lots, batch_size=200)
        saved = {(lot.product_id, lot.lot_number): lot.pk
                 for lot in Lot.objects.filter(lot_number__in=[x.lot_number for x in lots])}
        for lot in lots:
            available = available_from.get(lot.lot_number)
            if available is not None:
                self.lots.setdefault(lot.product.code, []).append(
                    (available, saved[(lot.product_id, lot.lot_number)], lot.lot_number))
        for entries in self.lots.values():
            entries.sort()
        self.report.lots = len(lots)
        self.clock.done("lots", f"{len(lots)} lots (1 quarantined, 1 expired, {len(LOT_SPECS)} for today's desk)")

    # ---- people and doses

    def plan_and_write(self, registrar: Any) -> None:
        """Plan residents and doses county by county (every dose checked by the rules), register
        each county's residents through ``registry.batch.register_people`` as ``registrar``,
        then record the doses day by day through ``vaccination.batch.record_doses``."""
        report = self.report
        first_total, second_total = targets(self.scale)
        populations = [p.fact.population_2020 for p in self.counties]
        uptake = [p.fact.population_2020 * uptake_factor(p.fact, self.seed) for p in self.counties]
        firsts = apportion(first_total, uptake)
        seconds = apportion(second_total, uptake)
        mass_plans = [p for p in self.counties if p.fact.mass_site]
        mass_split = dict(zip([p.fact.code for p in mass_plans],
                              apportion(round(MASS_DOSES * self.scale), [p.fact.population_2020 for p in mass_plans]),
                              strict=True))
        unvaccinated = apportion(round(UNVACCINATED_SHARE * first_total), populations)

        self.used_ids: set[str] = set()
        writer = _CountyWriter(self, registrar)
        try:
            for plan, n_first, n_second, n_unvax in zip(self.counties, firsts, seconds, unvaccinated, strict=True):
                self.person_items: list[PersonItem] = []  # the county's residents, by index
                self.doses: list[list[Any]] = []  # the county's doses (person = index above)
                self._plan_county(plan, n_first, n_second, mass_split.get(plan.fact.code, 0))
                self._plan_unvaccinated(plan, n_unvax)
                report.persons += len(self.person_items)
                writer.put(plan, self.person_items, self.doses)
            del self.person_items, self.doses, self.used_ids
            report.vaccinated = first_total
            report.unvaccinated = sum(unvaccinated)
            self.clock.done("plan", f"{report.persons:,} residents and their doses planned, every dose checked "
                                    "by the rules (the counties already planned written meanwhile)")
        finally:
            writer.close()
        report.sessions = Session.objects.count()
        report.counter_rows = DoseCounter.objects.count() + ResidenceCounter.objects.count()
        self.clock.done("write", f"{report.persons:,} residents registered, {report.doses:,} doses recorded "
                                 f"({report.first_dose_people:,} first, {report.second_dose_people:,} second) in "
                                 f"{writer.batches:,} batches; {report.sessions:,} sessions, "
                                 f"{report.counter_rows:,} counter rows")

    def _county_person(self, plan: CountyPlan, grid_index: int, age: int, groups: tuple[str, ...],
                       tibetan_share: float, on: dt.date) -> tuple[int, dt.date]:
        """Add one resident (valid ID number for the county) and return (index, birth date)."""
        rng = self.rng
        sex = "M" if rng.random() < SEX_RATIO / (100 + SEX_RATIO) else "F"
        birth = birth_date_for_age(rng, age, on)
        code = plan.fact.code
        if code == KANGDING and birth.year < 2015 and rng.random() < KANGDING_OLD_CODE_SHARE:
            code = KANGDING_OLD_CODE
        while True:
            # 500 sequences of each parity per division and day; draw until unused.
            number = make_id_number(code, birth, 2 * rng.randrange(500) + (1 if sex == "M" else 0))
            if number not in self.used_ids:
                self.used_ids.add(number)
                break
        index = len(self.person_items)
        self.person_items.append(PersonItem(
            id_number=number, name=synthetic_name(rng, sex, tibetan_share), phone=synthetic_phone(rng),
            division_code=plan.grid_codes[grid_index], priority_groups=groups,
        ))
        return index, birth

    def _adult_age(self, older_weight: float) -> int:
        """An adult age on the campaign's first day, from the census structure."""
        older = BAND_SHARES["60+"] * older_weight
        if self.rng.random() < older / (older + BAND_SHARES["18-59"]):
            return min(100, 60 + int(self.rng.expovariate(1 / 9)))
        return self.rng.randint(18, 59)

    def _plan_county(self, plan: CountyPlan, n_first: int, n_second: int, n_mass: int) -> None:
        rng = self.rng
        fact = plan.fact
        tibetan = TIBETAN_SHARE.get(fact.code, TIBETAN_SHARE_DEFAULT)
        n_grids = len(plan.grids)
        cum_adults = list(_accumulate(plan.grid_adults))
        # The gymnasium draws from the whole county, the county town most of all.
        cum_mass = list(_accumulate(a * (3 if u else 1) for a, u in zip(plan.grid_adults, plan.grid_urban, strict=True)))
        grids_in = defaultdict(list)
        for i, t_code in enumerate(plan.grid_township):
            grids_in[t_code].append(i)

        # People: (grid index, age, groups, site, product, mass?) for every first dose.
        people: list[tuple[int, int, tuple[str, ...], SiteInfo, str, bool]] = []
        n_students = min(round(UNIVERSITY_STUDENTS * self.scale), n_first - n_mass) if plan.university else 0
        n_monks = round(MONASTIC_SHARE * n_first) if plan.temples else 0
        n_monks = min(n_monks, n_first - n_mass - n_students)
        for _ in range(n_students):
            site, t_code = plan.university  # type: ignore[misc]
            people.append((rng.choice(grids_in[t_code]), rng.randint(18, 23), ("university_students",), site,
                           self._product(site), False))
        for i in range(n_monks):
            site, t_code = plan.temples[i % len(plan.temples)]
            people.append((rng.choice(grids_in[t_code]), rng.randint(18, 70), ("monastics",), site,
                           self._product(site), False))
        n_general = n_first - n_students - n_monks
        mass_grids = rng.choices(range(n_grids), cum_weights=cum_mass, k=n_mass) if n_mass else []
        general_grids = rng.choices(range(n_grids), cum_weights=cum_adults, k=n_general - n_mass)
        for j in range(n_general):
            group = self._general_group(bool(fact.borders))
            age = self._adult_age(OLDER_WEIGHT_VACCINATED)
            if group:
                age = min(max(age, 22), 60)
            if j < n_mass:
                site = plan.mass
                grid = mass_grids[j]
            else:
                grid = general_grids[j - n_mass]
                t_code = plan.grid_township[grid]
                if t_code in plan.urban_townships:
                    site = plan.fixed or plan.thc[t_code]
                elif rng.random() < 0.7:
                    site = plan.thc[t_code]
                else:
                    site = rng.choice(plan.mobile)
            assert site is not None
            people.append((grid, age, (group,) if group else (), site, self._product(site), j < n_mass))

        # Dates: mass days for the gymnasium, a ramp for everyone else; the early groups first.
        days = [CAMPAIGN_START + dt.timedelta(days=i) for i in range((CAMPAIGN_END - CAMPAIGN_START).days + 1)]
        mass_people = [p for p in people if p[5]]
        regular = [p for p in people if not p[5]]
        mass_dates = [d for d, n in zip(MASS_DAYS, apportion(len(mass_people), MASS_DAY_WEIGHTS), strict=True)
                      for _ in range(n)]
        regular_dates = self._ramp_dates(len(regular), n_second, days)
        regular.sort(key=lambda p: (0 if set(p[2]) & EARLY_GROUPS else 1) + rng.random() * 1.5)

        # (person id, birth date, day, product, site, groups) of every first dose.
        firsts: list[tuple[int, dt.date, dt.date, str, SiteInfo, tuple[str, ...]]] = []
        for person, day in [*zip(regular, regular_dates, strict=True), *zip(mass_people, mass_dates, strict=True)]:
            grid, age, groups, site, product, _mass = person
            pk, birth = self._county_person(plan, grid, age, groups, tibetan, CAMPAIGN_START)
            self._add_dose(pk, birth, groups, site, product, day, [])
            firsts.append((pk, birth, day, product, site, groups))

        # Second doses: the earliest first doses (with some noise) whose interval allows it.
        candidates = []
        for entry in firsts:
            day, product = entry[2], entry[3]
            rule = self.rules[product]
            if rule.doses_in_series < 2:
                continue
            interval = rule.doses[1].min_interval_days or 0
            if day + dt.timedelta(days=interval) <= CAMPAIGN_END:
                candidates.append((day.toordinal() + rng.random() * 7, entry))
        if len(candidates) < n_second:
            raise RuntimeError(f"{fact.code}: only {len(candidates)} people can have a second dose, need {n_second}")
        candidates.sort(key=lambda c: c[0])
        for _key, (pk, birth, day, product, site, groups) in candidates[:n_second]:
            rule = self.rules[product]
            second_product = product
            if rule.platform == "inactivated" and rng.random() < PRODUCT_SWITCH_SHARE:
                second_product = rng.choice([c for c, _ in INACTIVATED_MIX if c != product])
            interval = (rule.doses[1].min_interval_days or 0) + self._extra_days()
            latest = (CAMPAIGN_END - day).days
            second_day = day + dt.timedelta(days=min(interval, latest))
            prior = [rules.PriorDose(product_code=product, dose_number=1, kind="primary", given_on=day, series=rule.series)]
            self._add_dose(pk, birth, groups, site, second_product, second_day, prior)

    def _ramp_dates(self, n: int, n_second: int, days: list[dt.date]) -> list[dt.date]:
        """First-dose dates for ``n`` people, ramping up; steep unless the county needs more
        early first doses to reach its second-dose figure (margin for one-dose products)."""
        cutoff = CAMPAIGN_END - dt.timedelta(days=28)
        power = 4.0
        while True:
            per_day = ramp_days(n, days, power)
            early = sum(c for d, c in zip(days, per_day, strict=True) if d <= cutoff)
            if early >= 1.25 * n_second or power <= 0:
                break
            power -= 0.25
        return [d for d, c in zip(days, per_day, strict=True) for _ in range(c)]

    def _extra_days(self) -> int:
        """Days beyond the minimum interval: most people come back within two weeks."""
        r = self.rng.random()
        if r < 0.70:
            return self.rng.randint(0, 7)
        if r < 0.95:
            return self.rng.randint(8, 14)
        if r < 0.99:
            return self.rng.randint(15, 30)
        return self.rng.randint(36, 45)  # past the 56-day due-by date: overdue, still given

    def _general_group(self, border_county: bool) -> str:
        r = self.rng.random()
        if border_county and r < BORDER_STAFF_SHARE:
            return "border_port_staff"
        for code, share in GROUP_SHARES:
            if r < share:
                return code
            r -= share
        return ""

    def _product(self, site: SiteInfo) -> str:
        rng = self.rng
        if site.kind == SiteKind.MASS_SITE:
            return "BIBP" if rng.random() < 0.55 else "CORONAVAC"
        r = rng.random()
        ad5 = AD5_SHARE.get(site.kind, AD5_SHARE["default"])
        if r < ad5:
            return "AD5"
        if r < ad5 + ZF2001_SHARE:
            return "ZF2001"
        r = rng.random()
        for code, share in INACTIVATED_MIX:
            if r < share:
                return code
            r -= share
        return INACTIVATED_MIX[0][0]

    def _plan_unvaccinated(self, plan: CountyPlan, n: int) -> None:
        """Registered residents without a dose yet: what grid workers' lists are made of."""
        rng = self.rng
        tibetan = TIBETAN_SHARE.get(plan.fact.code, TIBETAN_SHARE_DEFAULT)
        grids = rng.choices(range(len(plan.grids)), cum_weights=list(_accumulate(plan.grid_adults)), k=n)
        for grid in grids:
            # Ages on the report day; 12-17 become eligible on 2021-07-01.
            age = rng.randint(12, 17) if rng.random() < 0.15 else self._adult_age(OLDER_WEIGHT_UNVACCINATED)
            self._county_person(plan, grid, age, (), tibetan, CAMPAIGN_END)

    def _add_dose(self, person_id: int, birth: dt.date, groups: tuple[str, ...], site: SiteInfo, product: str,
                  day: dt.date, history: list[rules.PriorDose]) -> None:
        """Check one dose with the rules and keep it for writing (ids come later, in time order)."""
        rule = self.rules[product]
        verdict = rules.assess(product=rule, on=day, birth_date=birth, history=history, products=self.rules)
        if verdict.status != "eligible" or verdict.kind != "primary":
            raise RuntimeError(
                f"the rules refuse dose {len(history) + 1} of {product} on {day} for resident #{person_id}: "
                f"{verdict.status} {verdict.reason_codes}"
            )
        opens = self._opens.get(day)
        if opens is None:
            opens = self._opens[day] = dt.datetime.combine(day, OPENING_HOURS[0], tzinfo=TZ)
        at = opens + dt.timedelta(seconds=self.rng.randrange(_OPEN_SECONDS))
        number = verdict.dose_number
        assert number is not None
        age = rules.age_on(birth, day)
        self.doses.append([
            at, person_id, product, site, number, number >= rule.doses_in_series, verdict.overdue,
            age_band(age), groups[0] if groups else "",
        ])

def _accumulate(values: Any) -> Any:
    total = 0
    for v in values:
        total += v
        yield total


class _CountyWriter:
    """Writes each planned county through the services: its residents with
    ``registry.batch.register_people`` (one batch, as the demo's admin), then its doses with
    ``vaccination.batch.record_doses``, in time order, one batch per day.

    A day's batch is entered by the county's records clerk (a vaccinator over the county: the
    acting user, so the dose's recorder). The doses of the site-days with a session (the
    gymnasiums' mass days, every site on the report day: ``demo_sites``) are sent at the day's
    last one, live, into their open sessions; the day's other registers the next morning at
    ``REGISTER_ENTERED_AT``: within 24 hours of being given, so the replayed history has no
    retrospective entries, and a past day's doses need no open session (docs/sessions.md). (Batches per site staff member and day would be at least one per
    site-day, 18,881 at full scale, and the per-batch work of the service would then cost
    more than the doses.)

    Outside a transaction (the command), the counties are written on a second thread with its
    own connection while the next ones are planned; inside one (tests), at once. Lots and
    client UUIDs come from a random generator of the county's own, so the build is the same
    either way.
    """

    def __init__(self, builder: DemoBuilder, registrar: Any) -> None:
        self.builder, self.registrar = builder, registrar
        self.batches = 0
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None
        if not connection.in_atomic_block:
            self.jobs: queue.Queue[tuple | None] = queue.Queue(maxsize=2)
            self.thread = threading.Thread(target=self._run, name="demo-writer", daemon=True)
            self.thread.start()

    def put(self, plan: CountyPlan, persons: list[PersonItem], doses: list[list[Any]]) -> None:
        if self.thread is None:
            self.write(plan, persons, doses)
            return
        if self.error is not None:
            self.close()
        self.jobs.put((plan, persons, doses))

    def close(self) -> None:
        """Wait for every county; re-raise the first error."""
        if self.thread is not None:
            thread, self.thread = self.thread, None
            self.jobs.put(None)
            thread.join()
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def _run(self) -> None:
        try:
            with _fast_sqlite_writes():
                while (job := self.jobs.get()) is not None:
                    if self.error is None:
                        try:
                            self.write(*job)
                        except BaseException as exc:  # re-raised on the planning thread
                            self.error = exc
        finally:
            connection.close()

    def write(self, plan: CountyPlan, persons: list[PersonItem], doses: list[list[Any]]) -> None:
        # The county's items all live until its last batch: the cyclic collector's passes over
        # them (and over the plans held meanwhile) would find nothing. Its small days' batches
        # and the feeding below are paused too (the services pause only large batches).
        pause = gc.isenabled()
        if pause:
            gc.disable()
        try:
            self._write(plan, persons, doses)
        finally:
            if pause:
                gc.enable()

    def _write(self, plan: CountyPlan, persons: list[PersonItem], doses: list[list[Any]]) -> None:
        b, report = self.builder, self.builder.report
        outcomes = register_people(persons, acting_user=self.registrar, source="cli")
        refused = [o for o in outcomes if o.status != "created"]
        if refused:
            raise RuntimeError(f"the registry refused {len(refused)} residents, e.g. {persons[refused[0].index]}: "
                               f"{refused[0].status} {refused[0].code}")
        pks = [o.person.pk for o in outcomes]
        rng = random.Random(f"{b.seed}-{plan.fact.code}-doses")
        doses.sort(key=lambda d: (d[0], d[1]))
        # The county's supply rounds are planned from its doses; each dose then takes the
        # earliest-expiring lot its site holds (see demo_supply).
        supply = b.supply.county(plan, [(d[0], d[3].code, d[2]) for d in doses])
        days: dict[dt.date, list[list[Any]]] = {}
        for dose in doses:
            days.setdefault(dose[0].date(), []).append(dose)
        clerk = get_user_model().objects.get(pk=b.recorders[plan.fact.code])
        ops = b.site_days
        for day in sorted(days):
            supply.before(day)
            if day == REPORT_DAY:
                per_site: dict[str, int] = defaultdict(int)
                for dose in days[day]:
                    per_site[dose[3].code] += 1
                ops.open_report_day(plan, per_site)
            live, later = [], []
            for at, person, product, site, number, _completes, is_overdue, _band, _group in days[day]:
                (live if ops.is_live(site.code, day) else later).append(DoseItem(
                    client_uuid=uuid.UUID(int=rng.getrandbits(128), version=4), product_code=product,
                    lot_number=supply.lot_for(site.code, product), site_code=site.code, administered_at=at,
                    person_id=pks[person], dose_number=number,
                ))
                report.first_dose_people += number == 1
                report.second_dose_people += number == 2
                report.overdue_doses += bool(is_overdue)
            # Sessions' doses are sent at the day's last one; the other registers the next morning.
            next_morning = dt.datetime.combine(day + dt.timedelta(days=1), REGISTER_ENTERED_AT, tzinfo=TZ)
            for items, now in ((live, live[-1].administered_at if live else None), (later, next_morning)):
                if not items:
                    continue
                outcomes = record_doses(items, acting_user=clerk, source="cli", now=now)
                refused = [o for o in outcomes if o.status != "created"]
                if refused:
                    first = refused[0]
                    raise RuntimeError(f"the dose service refused {len(refused)} doses, e.g. {items[first.index]}: "
                                       f"{first.code} {first.error and first.error.detail}")
                report.doses += len(outcomes)
                self.batches += 1
            if day == REPORT_DAY:
                ops.close_report_day(plan)
            supply.after(day)


# -- entry points -------------------------------------------------------------------------


# The demo's later parts (mobilisation and reporting), run after the site-days as (order, dotted
# path of ``fn(builder, admin)``); each writes through its app's services and may add its lines to
# the build's progress with ``builder.clock.done(name, text)`` and its figures to ``builder.report``.
LATER_STEPS: list[tuple[int, str]] = [
    (30, "vaxops.campaign.demo_appointments.build"),
    (20, "vaxops.campaign.demo_targets.build"),
    (90, "vaxops.campaign.demo_reports.build"),
    (10, "vaxops.campaign.demo_outreach.build"),
]


def build_demo(*, scale: float = DEFAULT_SCALE, seed: int = DEFAULT_SEED, progress: Progress | None = None,
               passwords: Callable[[], dict[str, str]] | None = None) -> DemoReport:
    """Build the demo into an empty database (``reset_database`` first if it is not empty).

    ``passwords`` returns the demo logins' password hashes (the command computes them on the
    second core while the build runs); by default they are hashed here at the end.
    """
    say = progress or (lambda _line: None)
    if Division.objects.filter(code=PREFECTURE[0]).exists():
        raise RuntimeError("the database already holds the prefecture; reset it first")
    builder = DemoBuilder(scale=scale, seed=seed, progress=say)
    started = time.perf_counter()
    with _fast_sqlite_writes():
        with transaction.atomic():
            builder.build_divisions()
            builder.jingxi.build_divisions()
            builder.build_sites()
            builder.jingxi.build_sites()
            builder.supply.build_stores()
            builder.jingxi.build_stores()
            builder.site_days.build_accounts([(p.fact.code, p.division_id) for p in builder.counties]
                                             + [(builder.jingxi.county_code, builder.jingxi.county_id)])
            builder.build_lots()
            builder.w.reset_sequences()
        # The logins go through the user service (its own durable transactions).
        create_demo_users()
        builder.supply.set_officers(builder.supply_officers)
        builder.supply.open()
        builder.clock.done("stores", f"{builder.supply.report.stores} stores, the prefecture's first "
                                     f"{builder.supply.report.receipts} consignments")
        # Staff, rosters and the gymnasiums' mass days opened through the gate, before their doses.
        builder.site_days.prepare()
        r = builder.site_days.report
        builder.clock.done("staff", f"{r.units} units, {r.staff:,} staff ({r.gym_roster} on the gymnasiums' teams, "
                                    f"{r.gym_medical} medical), {r.deployments} deployments; {r.opened} mass-day "
                                    "sessions opened")
        # People and doses through their services, batch by batch (each its own transaction).
        admin = get_user_model().objects.get(username="admin")
        builder.plan_and_write(admin)
        _analyze()
        builder.site_days.close_mass_days()
        builder.supply.close()
        s = builder.supply.report
        builder.clock.done("supply", f"today's lots to the desk, lot {s.quarantined_lot} quarantined; "
                                     f"{s.receipts} receipts, {s.transfers} transfers, {s.adjustments} adjustments, "
                                     f"{s.excursions} excursion(s) in all; the county rounds took "
                                     f"{s.rounds_seconds:.1f}s of the write, cpu {s.rounds_cpu_seconds:.1f}s")
        # Jingxi: the Renzhuang day's residents and vaccine, its sessions and visits.
        builder.jingxi.write(admin)
        # Today's week at Kangding's sites (the planner), today's sessions opened (one refused).
        builder.site_days.plan_today()
        builder.report.aefi = report_demo_aefi(builder)
        r = builder.site_days.report
        builder.clock.done("sessions", f"{r.sessions:,} sessions ({r.opened:,} opened through the gate, {r.closed:,} "
                                       f"closed with their figures, one opening refused); today: "
                                       f"{r.today_sessions} sessions at Kangding's sites; "
                                       f"{builder.report.aefi['reports']} AEFI reports")
        # Mobilisation and reporting: each part's own module, in the order of LATER_STEPS.
        for _order, path in sorted(LATER_STEPS):
            import_string(path)(builder, admin)
    set_demo_passwords((passwords or hash_demo_passwords)())
    builder.clock.done("users", f"{len(DEMO_USERS)} demo logins")
    report = builder.report
    report.seconds = round(time.perf_counter() - started, 2)
    with transaction.atomic():
        audit(BUILD_ACTION, Division.objects.get(code=PREFECTURE[0]), actor=None, source="cli",
              after=report.as_dict(), county_code="")
    return report


def _analyze() -> None:
    """PostgreSQL: fresh planner statistics once the bulk of the rows is in. Autovacuum would
    get there in its own time; the later steps' queries (key groups, targets, the report) would
    meanwhile be planned for the near-empty tables the build started from."""
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


class _fast_sqlite_writes:
    """Settings for the build connection only, restored afterwards (SQLite and PostgreSQL).

    ``synchronous=OFF``: no fsync per commit (PostgreSQL: ``synchronous_commit=off``, the
    batches' commits do not wait for the WAL flush); a crash mid-build loses the build, which
    ``--rebuild`` redoes. ``temp_store=MEMORY``, a larger page cache and ``threads``: index
    builds sort in memory, on both cores. Skipped inside a transaction (tests), where SQLite
    does not allow changing the sync mode.
    """

    PRAGMAS = {"synchronous": "OFF", "temp_store": "MEMORY", "cache_size": "-262144", "threads": "2"}

    def __enter__(self) -> None:
        self.previous: dict[str, Any] = {}
        self.postgres = connection.vendor == "postgresql" and not connection.in_atomic_block
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
        if connection.vendor != "sqlite" or connection.in_atomic_block:
            return
        with connection.cursor() as cursor:
            for name, value in self.PRAGMAS.items():
                cursor.execute(f"PRAGMA {name}")
                self.previous[name] = cursor.fetchone()[0]
                cursor.execute(f"PRAGMA {name}={value}")

    def __exit__(self, *exc: object) -> None:
        if self.postgres:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit")
        if self.previous:
            with connection.cursor() as cursor:
                for name, value in self.previous.items():
                    cursor.execute(f"PRAGMA {name}={int(value)}")


def hash_demo_passwords() -> dict[str, str]:
    """The demo logins' password hashes (slow by design: PBKDF2)."""
    return {username: make_password(demo_password(role)) for username, role, _ in DEMO_USERS}


def create_demo_users() -> int:
    """One login per role (see ``DEMO_USERS``), through the user service; returns the
    vaccinator's user id. Passwords are set by ``set_demo_passwords``."""
    from vaxops.access.services import create_user

    vaccinator = 0
    for username, role, scope in DEMO_USERS:
        user, _ = create_user(username=username, role=role, scope=scope or None, source="cli")
        if role == Role.VACCINATOR:
            vaccinator = user.pk
    return vaccinator


def set_demo_passwords(hashed: dict[str, str]) -> None:
    """Store the demo logins' password hashes (computed beforehand, see ``hash_demo_passwords``)."""
    User = get_user_model()
    for username, _role, _scope in DEMO_USERS:
        User.objects.filter(username=username).update(password=hashed[username])


def issue_demo_tokens() -> dict[str, str]:
    """Fresh API tokens for the demo's token users; earlier demo tokens are revoked.

    Only a token's hash is stored, so the tokens are issued anew at every start to be printed.
    """
    User = get_user_model()
    tokens: dict[str, str] = {}
    with transaction.atomic():
        for username in TOKEN_USERS:
            user = User.objects.get(username=username)
            ApiToken.objects.filter(user=user, revoked=False).update(revoked=True)
            token_row, tokens[username] = ApiToken.issue(user)
            audit("demo.token_issued", token_row, actor=None, source="cli", after={"user": username})
    return tokens


def demo_state(scale: float, seed: int) -> str:
    """What the database holds: ``empty``, ``same`` (this demo, complete), ``other`` (a demo
    at another scale or seed, or an unfinished one) or ``foreign`` (data that is not the demo)."""
    last = AuditEvent.objects.filter(action=BUILD_ACTION).order_by("-at", "-pk").first()
    has_data = Division.objects.exists() or Person.objects.exists()
    if last is None:
        return "foreign" if has_data else "empty"
    figures = last.after or {}
    first, second = targets(scale)
    same = (
        math.isclose(float(figures.get("scale", -1)), scale)
        and figures.get("seed") == seed
        and DoseRecord.objects.count() == first + second + int((figures.get("jingxi") or {}).get("doses", 0))
    )
    return "same" if same else "other"


def reset_database(progress: Progress | None = None) -> None:
    """Start from an empty database: delete the SQLite file, or flush the tables elsewhere
    and reload the reference data that migrations load (products, priority groups)."""
    from django.core.management import call_command

    say = progress or (lambda _line: None)
    if connection.vendor == "sqlite":
        name = str(connection.settings_dict["NAME"])
        connection.close()
        from pathlib import Path

        for suffix in ("", "-wal", "-shm"):
            Path(name + suffix).unlink(missing_ok=True)
        say(f"removed {name}")
        call_command("migrate", interactive=False, verbosity=0)
        return
    call_command("flush", interactive=False, verbosity=0)
    _reload_migration_data()
    say("flushed every table and reloaded the reference data")


def _reload_migration_data() -> None:
    """Re-run the data-loading steps of every applied migration (they are idempotent)."""
    from django.apps import apps
    from django.db.migrations.loader import MigrationLoader
    from django.db.migrations.operations import RunPython

    loader = MigrationLoader(connection)
    plan: list[tuple[str, str]] = []
    for leaf in loader.graph.leaf_nodes():
        for node in loader.graph.forwards_plan(leaf):
            if node not in plan:
                plan.append(node)
    with connection.schema_editor() as editor:
        for node in plan:
            for operation in loader.graph.nodes[node].operations:
                if isinstance(operation, RunPython):
                    operation.code(apps, editor)


def demo_logins() -> list[tuple[str, str, str, str]]:
    """(username, role, scope, password) of every demo login, for the start-up table."""
    return [(u, str(r), s or "*", demo_password(str(r))) for u, r, s in DEMO_USERS]


__all__ = [
    "COUNTIES", "DEFAULT_SCALE", "DEFAULT_SEED", "DEMO_USERS", "REPORT_AT", "DemoReport", "apportion",
    "build_demo", "demo_logins", "demo_password", "demo_state", "hash_demo_passwords", "issue_demo_tokens",
    "reset_database", "split_bands", "targets",
]
