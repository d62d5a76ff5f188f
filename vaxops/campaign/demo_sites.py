"""The demo's site-days: staff, rosters, support deployments, sessions opened through the
medical-assurance gate and closed with their figures.

Decisions (the figures a reader may want to check are constants below):

* Who acts: each county has a sessions clerk (``<county>-sites``, a site manager over the
  county, like the records clerks of ``demo``: an account that cannot log in) who plans, fills
  the checklists, rosters, opens and closes its sessions; the prefecture command deploys staff.
  These accounts are reference data, inserted with the sites.
* Staff (``staff.services``): every county's people's hospital (level 2) and CDC, the
  prefecture's people's hospital in Kangding (level 3) as units; one doctor of the county
  hospital and one CDC vaccinator for every site of the county (every site had level-2+ medical
  staff), and the gymnasiums' teams (``GYM_TEAM``: 155 medical staff each, 310 in all, plus
  registrars, volunteers, drivers and a police liaison): Kangding's from its own hospital and
  the prefecture's, Luding's from its own hospital and, deployed for the mass days
  (``deploy``), from the prefecture's hospital and Danba's. Hospital levels are assumptions.
* Sessions (``sites.sessions``) where the demo shows a site-day, each with a complete
  checklist (``record_readiness_many``) and its roster, opened through the gate
  (``open_sessions``) and closed with its figures (``close_session``):
  - the two gymnasiums on the five mass days (their doses are recorded live, as given);
  - every site giving doses on the report day, 2021-06-01 (recorded live: the report counts
    them at 19:00), closed at 18:30;
  - the campaign's other days have no session: their registers (paper at townships and mobile
    teams) are entered by the county's records clerk the next morning at 07:30, within 24
    hours, so none is a retrospective entry and the report's figures as recorded are exact;
  - today (the day of the build) and the next six days at Kangding's sites (the planner's
    week); today's are opened, except one health centre whose checklist lacks its cold-chain
    reading: its opening is refused (``readiness_incomplete``, in the audit).
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.utils import timezone

from vaxops.access.models import Role, RoleAssignment
from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.sites.models import SessionKind, SiteKind

if TYPE_CHECKING:  # pragma: no cover
    from vaxops.campaign.demo import CountyPlan, DemoBuilder

HOURS = (dt.time(8, 0), dt.time(18, 0))
OPENED_AT = dt.time(7, 45)
CLOSED_AT = dt.time(18, 30)
REGISTER_ENTERED_AT = dt.time(7, 30)  # the next morning: the day's paper registers entered
REPORT_DAY = dt.date(2021, 6, 1)
PREFECTURE_HOSPITAL = ("513300-HOSP", "甘孜藏族自治州人民医院", "Garze Prefecture People's Hospital", 3, "513301")
DEPLOYED_FROM = {"513322": (("513300-HOSP", 40), ("513323-HOSP", 30))}  # Luding's support teams
DEPLOYMENT_DAYS = (dt.date(2021, 5, 26), dt.date(2021, 5, 31))
# One gymnasium's team (per site; both shifts): role -> number.
GYM_TEAM = {"doctor": 38, "vaccinator": 44, "nurse": 48, "observer": 25, "registrar": 24, "volunteer": 20,
            "driver": 4, "police_liaison": 2}
GYM_MEDICAL = ("doctor", "vaccinator", "nurse", "observer")
GYM_TODAY = {"doctor": 4, "vaccinator": 8, "nurse": 8, "observer": 4, "registrar": 4, "volunteer": 2}  # today's team
GYM_SEATS = 360
MASS_PRODUCTS = ("BIBP", "CORONAVAC")
TRAINED_UNTIL = dt.date(2021, 12, 31)
PLANNER_DAYS = 7  # today and the six days after it
REFUSED_MISSING = "cold_chain_reading"
PLANNED_SHORT = 6  # one of today's sessions is planned with this many staff and rostered fewer


def kit(day: dt.date) -> dict[str, Any]:
    """The emergency kit as checked on ``day``: every drug of the list within its expiry."""
    expiry = (day + dt.timedelta(days=270)).isoformat()
    return {"checked": True, "drugs": {"adrenaline": expiry, "antihistamine": expiry, "corticosteroid": expiry,
                                       "oxygen": True, "resuscitation_equipment": True}}


def readiness_items(site_kind: str, day: dt.date, planned_doses: int, *, plate: str, crew: list[str],
                    seats: int | None = None) -> dict[str, Any]:
    """A complete checklist's submitted items (the doctor and the training come from the roster):
    an ambulance on site at mass and permanent sites, the minutes to one elsewhere."""
    needed = max(5, math.ceil(planned_doses * 30 / 600 * 1.5))
    ambulance = ({"plate": plate, "crew": crew} if site_kind in (SiteKind.MASS_SITE, SiteKind.FIXED_SITE)
                 else {"minutes": 20, "distance_km": 12})
    return {"ambulance": ambulance, "emergency_kit": kit(day), "observation_seats": max(needed, seats or 0),
            "cold_chain_reading": 4.6}


@dataclass
class SitesReport:
    """Figures of the demo's site-days (part of the build's report)."""

    units: int = 0
    staff: int = 0
    gym_roster: int = 0
    gym_medical: int = 0
    deployments: int = 0
    deployed_staff: int = 0
    sessions: int = 0
    opened: int = 0
    closed: int = 0
    refused_session: int = 0
    today_sessions: int = 0
    phases: dict[str, float] = field(default_factory=dict)


class DemoSites:
    """Staff, sessions and rosters of the demo; ``DemoBuilder`` calls it at each step."""

    def __init__(self, builder: DemoBuilder) -> None:
        self.b = builder
        self.report = SitesReport()
        self.rng = random.Random(f"{builder.seed}-sites")
        self.live: set[tuple[str, dt.date]] = set()  # (site code, day) recorded live in a session
        self.site_staff: dict[str, tuple[int, int]] = {}  # site code -> (doctor, vaccinator) staff ids
        self.gym_staff: dict[str, list[int]] = {}  # gymnasium site code -> its team's staff ids
        self.gym_sessions: list[Any] = []
        self.report_sessions: dict[str, list[Any]] = {}  # county -> its report-day sessions

    # ---- accounts (reference data, inserted with the sites)

    def build_accounts(self, counties: list[tuple[str, int]]) -> None:
        """A sessions clerk per county ((code, division id)): a site manager over the county."""
        User = get_user_model()
        unusable = make_password(None)
        users = [User(username=f"{code}-sites", password=unusable) for code, _ in counties]
        User.objects.bulk_create(users)
        by_name = dict(User.objects.filter(username__in=[u.username for u in users]).values_list("username", "pk"))
        RoleAssignment.objects.bulk_create([
            RoleAssignment(user_id=by_name[f"{code}-sites"], role=Role.SITE_MANAGER, division_id=division)
            for code, division in counties])
        self.clerk_ids = {code: by_name[f"{code}-sites"] for code, _ in counties}

    def clerk(self, county: str) -> Any:
        cache = self.__dict__.setdefault("_clerks", {})
        if county not in cache:
            cache[county] = get_user_model().objects.get(pk=self.clerk_ids[county])
        return cache[county]

    # ---- before the doses: staff, the gymnasiums' days

    def prepare(self) -> None:
        """Units, staff and trainings; the gymnasiums' mass-day sessions opened with their teams."""
        from vaxops.campaign.demo import (
            COUNTIES,
            MASS_DAY_WEIGHTS,
            MASS_DAYS,
            MASS_DOSES,
            apportion,
            synthetic_name,
        )
        from vaxops.staff.services import add_qualifications, create_staff_many, create_unit, deploy

        User = get_user_model()
        admin = User.objects.get(username="admin")
        command = User.objects.get(username="prefecture_command")
        b = self.b
        units = [PREFECTURE_HOSPITAL[:4] + (PREFECTURE_HOSPITAL[4],)]
        for f in COUNTIES:
            units.append((f"{f.code}-HOSP", f"{f.name_zh}人民医院", f"{f.name_en} People's Hospital", 2, f.code))
            units.append((f"{f.code}-CDCU", f"{f.name_zh}疾病预防控制中心", f"{f.name_en} CDC", None, f.code))
        for code, zh, en, level, division in units:
            create_unit(code=code, name_zh=zh, name_en=en, kind="hospital" if level else "cdc", hospital_level=level,
                        division_code=division, acting_user=admin, source="cli")
        self.report.units += len(units)

        rng = self.rng
        rows: list[dict[str, Any]] = []
        keys: list[tuple[str, str]] = []  # (what, site or gym code) per row
        for info in b.sites.values():
            county = info.county_code
            tib = 0.5 if county in ("513301", "513322") else 0.85
            for role, unit in (("doctor", f"{county}-HOSP"), ("vaccinator", f"{county}-CDCU")):
                rows.append({"name": synthetic_name(rng, rng.choice("MF"), tib), "role": role, "unit_code": unit})
                keys.append((role, info.code))
        for plan in b.counties:
            if plan.mass is None:
                continue
            code = plan.mass.code
            sources = [(f"{plan.fact.code}-HOSP", None)]
            if plan.fact.code == "513301":
                sources.append((PREFECTURE_HOSPITAL[0], 60))
            else:
                sources += list(DEPLOYED_FROM.get(plan.fact.code, ()))
            team = [role for role, n in GYM_TEAM.items() for _ in range(n)]
            rng.shuffle(team)
            # The supporting units' shares first, the host hospital the rest.
            units_in_order = [src for src, n in sources[1:] for _ in range(n)]
            for i, role in enumerate(team):
                unit = units_in_order[i] if i < len(units_in_order) else sources[0][0]
                rows.append({"name": synthetic_name(rng, rng.choice("MF"), 0.5), "role": role, "unit_code": unit})
                keys.append(("gym", code))
        staff = create_staff_many(rows, acting_user=admin, source="cli")
        self.report.staff += len(staff)
        by_site: dict[str, dict[str, int]] = {}
        for (what, code), member in zip(keys, staff, strict=True):
            if what == "gym":
                self.gym_staff.setdefault(code, []).append(member.pk)
            else:
                by_site.setdefault(code, {})[what] = member.pk
        self.site_staff = {code: (d["doctor"], d["vaccinator"]) for code, d in by_site.items()}
        roles = {m.pk: m.role for m in staff}
        units_of = {m.pk: m.unit.code for m in staff}
        # Trainings: the gymnasium vaccinators for the two products of the mass sites (a site's
        # own vaccinator is trained when a session of the site first needs it: open_report_day).
        add_qualifications([{"staff": pk, "kind": "vaccination_training", "product_code": product,
                             "valid_until": TRAINED_UNTIL}
                            for ids in self.gym_staff.values() for pk in ids if roles[pk] == "vaccinator"
                            for product in MASS_PRODUCTS], acting_user=admin, source="cli")
        # Deployments to the mass-site counties (the receiving county sees them).
        for county, sources in DEPLOYED_FROM.items():
            code = f"{county}-MASS"
            for unit, _n in sources:
                ids = [pk for pk in self.gym_staff[code] if units_of[pk] == unit]
                deploy(ids, to_division=county, to_site=code, starts_on=DEPLOYMENT_DAYS[0], ends_on=DEPLOYMENT_DAYS[1],
                       reason="支援泸定县体育馆大规模接种点（示例）", acting_user=command, source="cli")
                self.report.deployments += 1
                self.report.deployed_staff += len(ids)
        self.report.gym_roster = sum(len(v) for v in self.gym_staff.values())
        self.report.gym_medical = sum(roles[pk] in GYM_MEDICAL for v in self.gym_staff.values() for pk in v)

        # The mass days: the same apportionment as the plan (demo.plan_and_write) for the planned doses.
        mass_plans = [p for p in b.counties if p.fact.mass_site]
        split = apportion(round(MASS_DOSES * b.scale), [p.fact.population_2020 for p in mass_plans])
        for plan, total in zip(mass_plans, split, strict=True):
            code = plan.mass.code
            county = plan.fact.code
            clerk = self.clerk(county)
            per_day = apportion(total, MASS_DAY_WEIGHTS)
            sessions = self._create(clerk, [
                {"site": code, "date": day, "kind": SessionKind.FIXED, "opens_at": HOURS[0], "closes_at": HOURS[1],
                     "planned_doses": n, "products": list(MASS_PRODUCTS)}
                for day, n in zip(MASS_DAYS, per_day, strict=True)])
            self._rosters(dict.fromkeys(sessions, self.gym_staff[code]), clerk)
            self._ready(sessions, clerk, seats=GYM_SEATS)
            for s in sessions:
                self._open([s], clerk, s.date)
                self.live.add((code, s.date))
            self.gym_sessions += sessions

    # ---- helpers (each one service call)

    def _create(self, clerk: Any, specs: list[dict]) -> list[Any]:
        from vaxops.sites.sessions import create_sessions

        sessions = create_sessions(specs, acting_user=clerk, source="cli")
        self.report.sessions += len(sessions)
        return sessions

    def _roster(self, session: Any, staff_ids: list[int], clerk: Any, planned: int | None = None) -> None:
        from vaxops.staff.services import set_roster

        set_roster(session, staff_ids, acting_user=clerk, planned_staff=planned, source="cli")

    def _rosters(self, rosters: dict[Any, list[int]], clerk: Any) -> None:
        from vaxops.staff.services import set_rosters

        set_rosters(rosters, acting_user=clerk, source="cli")

    def _ready(self, sessions: list[Any], clerk: Any, *, seats: int | None = None,
               leave_out: str | None = None) -> None:
        from vaxops.staff.readiness import record_readiness_many

        items = {}
        for s in sessions:
            values = readiness_items(s.site.kind, s.date, s.planned_doses, plate=self._plate(s.site.county_code),
                                     crew=self._crew(), seats=seats)
            if leave_out:
                values.pop(leave_out, None)
            items[s] = values
        record_readiness_many(items, acting_user=clerk, source="cli")

    def _open(self, sessions: list[Any], clerk: Any, day: dt.date, at: dt.datetime | None = None) -> None:
        from vaxops.sites.sessions import open_sessions

        open_sessions(sessions, acting_user=clerk, at=at or dt.datetime.combine(day, OPENED_AT, tzinfo=TZ),
                      source="cli")
        self.report.opened += len(sessions)

    def close(self, session: Any, clerk: Any, at: dt.datetime | None = None) -> None:
        from vaxops.sites.sessions import close_session

        close_session(session, acting_user=clerk, at=at or dt.datetime.combine(session.date, CLOSED_AT, tzinfo=TZ),
                      source="cli")
        self.report.closed += 1

    def close_many(self, sessions: list[Any], clerk: Any, day: dt.date) -> None:
        from vaxops.sites.sessions import close_sessions

        if sessions:
            close_sessions(sessions, acting_user=clerk, at=dt.datetime.combine(day, CLOSED_AT, tzinfo=TZ),
                           source="cli")
            self.report.closed += len(sessions)

    def _plate(self, county: str) -> str:
        prefix = "桂L" if county.startswith("45") else "川V"
        return f"{prefix}{self.rng.randrange(10000, 99999)}"

    def _crew(self) -> list[str]:
        from vaxops.campaign.demo import synthetic_name

        return [synthetic_name(self.rng, "M", 0.5), synthetic_name(self.rng, "F", 0.5)]

    # ---- the report day (called by the county writer, on its thread)

    def is_live(self, site_code: str, day: dt.date) -> bool:
        return day == REPORT_DAY or (site_code, day) in self.live

    def open_report_day(self, plan: CountyPlan, doses: dict[str, int]) -> None:
        """The county's sessions of the report day ({site code: doses}), each with its doctor and
        vaccinator on the roster and a complete checklist, opened at 07:45."""
        from vaxops.staff.services import add_qualifications

        clerk = self.clerk(plan.fact.code)
        specs = []
        for code, n in sorted(doses.items()):
            kind = {SiteKind.MOBILE_TEAM: SessionKind.MOBILE, SiteKind.POINT_TO_POINT: SessionKind.POINT_TO_POINT}.get(
                self.b.sites[code].kind, SessionKind.FIXED)
            specs.append({"site": code, "date": REPORT_DAY, "kind": kind, "opens_at": HOURS[0], "closes_at": HOURS[1],
                              "planned_doses": n})
        sessions = self._create(clerk, specs)
        admin = self.__dict__.setdefault("_admin", get_user_model().objects.get(username="admin"))
        # Each site's vaccinator, trained for the campaign's vaccine (one training: the session
        # lists no product).
        add_qualifications([{"staff": self.site_staff[s.site.code][1], "kind": "vaccination_training",
                             "product_code": "BIBP", "valid_until": TRAINED_UNTIL} for s in sessions],
                           acting_user=admin, source="cli")
        self._rosters({s: list(self.site_staff[s.site.code]) for s in sessions}, clerk)
        self._ready(sessions, clerk)
        self._open(sessions, clerk, REPORT_DAY)
        self.report_sessions[plan.fact.code] = sessions

    def close_report_day(self, plan: CountyPlan) -> None:
        self.close_many(self.report_sessions.get(plan.fact.code, []), self.clerk(plan.fact.code), REPORT_DAY)

    # ---- after the doses

    def close_mass_days(self) -> None:
        for s in self.gym_sessions:  # each mass day at its own closing time
            self.close_many([s], self.clerk(s.site.county_code), s.date)

    def plan_today(self) -> None:
        """Kangding's week from today in the planner; today's sessions open (one refused)."""
        from vaxops.campaign.demo import KANGDING
        from vaxops.staff.services import add_qualifications

        b = self.b
        today = timezone.now().astimezone(TZ).date()
        clerk = self.clerk(KANGDING)
        admin = get_user_model().objects.get(username="admin")
        sites = sorted(code for code, info in b.sites.items() if info.county_code == KANGDING)
        specs = []
        for offset in range(PLANNER_DAYS):
            day = today + dt.timedelta(days=offset)
            for code in sites:
                kind = b.sites[code].kind
                if kind == SiteKind.MOBILE_TEAM and day.weekday() >= 5:
                    continue  # the mobile teams rest at weekends
                planned = {SiteKind.MASS_SITE: 600, SiteKind.FIXED_SITE: 150}.get(kind, 40)
                specs.append({
                    "site": code, "date": day, "kind": {SiteKind.MOBILE_TEAM: SessionKind.MOBILE,
                                               SiteKind.POINT_TO_POINT: SessionKind.POINT_TO_POINT}.get(
                        kind, SessionKind.FIXED),
                    "opens_at": HOURS[0], "closes_at": HOURS[1], "planned_doses": planned,
                    "organisation": "四川民族学院" if code.endswith("P2P-UNIV") else ""})
        sessions = self._create(clerk, specs)
        todays = [s for s in sessions if s.date == today]
        self.report.today_sessions = len(todays)
        # This year's refresher training for the vaccinators on today's rosters.
        valid = today + dt.timedelta(days=365)
        gym = f"{KANGDING}-MASS"
        from vaxops.staff.models import Staff

        by_role: dict[str, list[int]] = {}
        for pk, role in Staff.objects.filter(pk__in=self.gym_staff.get(gym, [])).order_by("pk").values_list("pk", "role"):
            by_role.setdefault(role, []).append(pk)
        gym_today = [pk for role, n in GYM_TODAY.items() for pk in by_role.get(role, [])[:n]]
        trained = {self.site_staff[s.site.code][1] for s in todays if s.site.code != gym}
        trained |= set(by_role.get("vaccinator", [])[:GYM_TODAY["vaccinator"]])
        # Today's sessions list no product: one training is enough.
        add_qualifications([{"staff": pk, "kind": "vaccination_training", "product_code": "BIBP", "valid_until": valid}
                            for pk in sorted(trained)], acting_user=admin, source="cli")
        refused = next(s for s in todays if s.site.kind == SiteKind.TOWNSHIP_HEALTH_CENTRE)
        short = next(s for s in todays if s.site.kind == SiteKind.TOWNSHIP_HEALTH_CENTRE and s.pk != refused.pk)
        for s in todays:
            if s.site.code == gym:
                self._roster(s, gym_today, clerk)
            else:
                self._roster(s, list(self.site_staff[s.site.code]), clerk,
                             planned=PLANNED_SHORT if s.pk == short.pk else None)
        ready = [s for s in todays if s.pk != refused.pk]
        self._ready(ready, clerk, seats=GYM_SEATS)
        self._ready([refused], clerk, leave_out=REFUSED_MISSING)
        # The refused opening first (the clerk tried before the fridge was read), then the others.
        try:
            self._open([refused], clerk, today, at=timezone.now())
        except VaxopsError as exc:
            if exc.code != "readiness_incomplete":
                raise
            self.report.refused_session = refused.pk
        else:  # pragma: no cover - the checklist lacks an item
            raise RuntimeError("the demo's refused opening was not refused")
        self._open(ready, clerk, today, at=timezone.now())


__all__ = ["DemoSites", "REPORT_DAY", "SitesReport", "readiness_items"]
