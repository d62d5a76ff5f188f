"""The demo's key groups and targets (issue 10, part targets; docs/targets.md, docs/keygroups.md).

Decisions:

* **Key groups.** The residents the build registered with a priority group become members
  through ``keygroups.services.add_members`` (one batch per group): medical staff under their
  county's hospital (a level-2+ one where the county has it), university students under the
  university in Kangding (四川民族学院, a unit added here), monastics under a temple unit of their
  county (synthetic, "（示例）"); Jingxi's residents are "border-area residents". The build
  registers only vaccinated people in the groups, so registered but unvaccinated adults of each
  county join the groups until each group's first-dose coverage is about ``COVERAGE`` (medical
  staff 97%, teachers 92%, university students 88%, monastics 82% …). About 1% of each
  group (among its members not vaccinated by 1 June) have a permanent contraindication (``registry.services.defer_person`` with no
  end): they leave the eligible count, shown as removed.
* **Targets.** The first-half-year first-dose target ("上半年第1剂次接种目标": residents aged 18+
  with a first dose, from 2021-03-22, due 2021-06-30, linear) of each of Ganzi's 18 counties, set
  by the prefecture command, and the prefecture's own (the sum), set by the administrator (the
  level above the prefecture). Each county's value is what it had reached by the end of a day
  between 20 May and 1 June (drawn per county), rounded down, so every county and the prefecture
  had met theirs by 2021-06-01 19:00, as the prefecture reported: "全州已提前完成上半年第1剂次接种目标任务".
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from vaxops.campaign.services import TZ

if TYPE_CHECKING:  # pragma: no cover
    from vaxops.campaign.demo import DemoBuilder

TARGET_START = dt.date(2021, 3, 22)
TARGET_DUE = dt.date(2021, 6, 30)
# The first-dose coverage of each key group on 1 June (about: the rest registered unvaccinated).
COVERAGE = {"medical_staff": 0.97, "border_port_staff": 0.95, "cold_chain_staff": 0.95, "public_service": 0.9,
            "teachers": 0.92, "university_students": 0.88, "monastics": 0.82, "border_residents": 0.78}
CONTRAINDICATED_SHARE = 0.01  # of a group's members, chosen among those not vaccinated by the report
UNIVERSITY = ("SCMZXY", "四川民族学院（示例单位）", "Sichuan Minzu College (demo unit)")


def _round_down(n: int) -> int:
    """A target as a command writes it: to the hundred (to the ten for small counts)."""
    step = 100 if n >= 2000 else (10 if n >= 100 else 1)
    return max(1, n // step * step)


def build(builder: DemoBuilder, admin: Any) -> None:
    from vaxops.campaign.demo import REPORT_AT

    rng = random.Random(f"{builder.seed}-targets")
    members = _key_groups(builder, admin, rng)
    targets = _targets(builder, admin, rng, REPORT_AT)
    builder.report.later["targets"] = {**members, **targets}
    builder.clock.done("targets", f"{members['members']:,} key-group members in {members['groups']} groups, "
                                  f"{members['contraindicated']} removed; {targets['targets']} first-half-year "
                                  f"targets, {targets['met_ahead']} met ahead by 2021-06-01 19:00")


def _key_groups(builder: DemoBuilder, admin: Any, rng: random.Random) -> dict[str, Any]:
    from vaxops.keygroups.models import Membership
    from vaxops.keygroups.services import BATCH, add_members
    from vaxops.registry.models import Person
    from vaxops.registry.services import defer_person
    from vaxops.staff.models import Unit, UnitKind
    from vaxops.staff.services import create_unit
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    prefecture = [p.fact.code for p in builder.counties]
    hospitals: dict[str, str] = {}
    for unit in Unit.objects.filter(kind=UnitKind.HOSPITAL).order_by("-hospital_level", "code"):
        hospitals.setdefault(unit.county_code, unit.code)
    rows: dict[str, list[dict[str, Any]]] = defaultdict(list)
    temples: dict[str, str] = {}

    def unit_for(group: str, county: str) -> str | None:
        if group == "medical_staff":
            return hospitals.get(county)
        if group == "university_students":
            return UNIVERSITY[0]
        if group == "monastics" and county in prefecture:
            return temples.setdefault(county, f"{county}-TEMPLE")
        return None

    unvaccinated = _unvaccinated_members(builder, rng)
    people = Person.objects.exclude(priority_groups=[]).values_list("pk", "county_code", "priority_groups")
    for pk, county, groups in people.iterator(chunk_size=5000):
        for group in groups:
            rows[group].append({"person_id": pk, "group": group, "unit": unit_for(group, county)})
    for group, members in unvaccinated.items():
        if group != "border_residents":
            rows[group].extend({"person_id": pk, "group": group, "unit": unit_for(group, county)}
                               for pk, county in members)
    kangding = prefecture[0]
    if rows.get("university_students"):
        create_unit(code=UNIVERSITY[0], name_zh=UNIVERSITY[1], name_en=UNIVERSITY[2], kind=UnitKind.OTHER,
                    division_code=kangding, acting_user=admin, source="cli")
    names = {p.fact.code: (p.fact.name_zh, getattr(p.fact, "name_en", "")) for p in builder.counties}
    for county, code in temples.items():
        zh, en = names.get(county, (county, county))
        create_unit(code=code, name_zh=f"{zh}寺庙（示例单位）", name_en=f"Temples of {en or county} (demo unit)",
                    kind=UnitKind.OTHER, division_code=county, acting_user=admin, source="cli")
    jingxi = builder.jingxi.county_code
    border = set(Person.objects.filter(county_code=jingxi).values_list("pk", flat=True))
    rows["border_residents"].extend({"person_id": pk, "group": "border_residents"} for pk in sorted(border))
    # The groups' lists stood before the campaign: every member belongs from its first day.
    from vaxops.campaign.demo import CAMPAIGN_START

    for group_rows in rows.values():
        for row in group_rows:
            row["since"] = CAMPAIGN_START
    added = 0
    for group_rows in rows.values():
        # Batches of BATCH rows: each its own transaction, and within SQLite's bound on parameters.
        for start in range(0, len(group_rows), BATCH):
            added += add_members(group_rows[start:start + BATCH], acting_user=admin, source="cli")["added"]
    # About 1% of each group's members not vaccinated by the report moment cannot be (a permanent
    # contraindication): they leave the eligible count and show as removed.
    chosen: list[int] = []
    for group, group_rows in rows.items():
        dosed = set(DoseRecord.objects.filter(
            status=DoseStatus.VALID, dose_number=1,
            person_id__in=Membership.objects.filter(group__code=group).values("person_id"),
        ).values_list("person_id", flat=True))
        open_ids = sorted({r["person_id"] for r in group_rows} - dosed - set(chosen))
        if open_ids:
            chosen += rng.sample(open_ids, min(len(open_ids), max(1, round(CONTRAINDICATED_SHARE * len(group_rows)))))
    for pk in chosen:
        defer_person(person_id=pk, code="severe_allergic_reaction", since=dt.date(2021, 4, 20),
                     note="既往严重过敏史，经评估为禁忌（示例）", acting_user=admin, source="cli")
    return {"members": added, "groups": len(rows), "contraindicated": len(chosen), "unvaccinated_members": sum(len(m) for m in unvaccinated.values()),
            "units_added": len(temples) + (1 if rows.get("university_students") else 0)}


def _unvaccinated_members(builder: DemoBuilder, rng: random.Random) -> dict[str, list[tuple[int, str]]]:
    """The key-group members the campaign had not reached by 1 June: per county and group, as
    many of the county's registered but unvaccinated adults (with no group yet) as bring the
    group's first-dose coverage to about ``COVERAGE``; Jingxi's likewise as border residents.
    Returns group → [(person id, county)]."""
    from django.db.models import Exists, OuterRef

    from vaxops.registry.models import Person
    from vaxops.vaccination.models import DoseRecord

    counts: dict[tuple[str, str], int] = defaultdict(int)
    for county, groups in Person.objects.exclude(priority_groups=[]).values_list("county_code", "priority_groups"):
        if groups:
            counts[(county, groups[0])] += 1
    jingxi = builder.jingxi.county_code
    counts[(jingxi, "border_residents")] = Person.objects.filter(county_code=jingxi).count()
    needed: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for (county, group), vaccinated in sorted(counts.items()):
        if COVERAGE.get(group) and vaccinated:
            needed[county].append((group, round(vaccinated * (1 / COVERAGE[group] - 1))))
    adult = dt.date(2021, 6, 1).replace(year=2003)
    out: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for county, wants in sorted(needed.items()):
        pool = list(Person.objects.filter(county_code=county, priority_groups=[], birth_date__lte=adult)
                    .exclude(Exists(DoseRecord.objects.filter(person_id=OuterRef("pk"))))
                    .order_by("pk").values_list("pk", flat=True))
        rng.shuffle(pool)
        for group, n in wants:
            taken, pool = pool[:n], pool[n:]
            out[group].extend((pk, county) for pk in taken)
    return out


def _targets(builder: DemoBuilder, admin: Any, rng: random.Random, report_at: dt.datetime) -> dict[str, Any]:
    from vaxops.regions.models import Division
    from vaxops.targets import figures
    from vaxops.targets.services import progress_items, set_target

    command = get_user_model().objects.get(username="prefecture_command")
    codes = [p.fact.code for p in builder.counties]
    divisions = Division.objects.in_bulk(codes, field_name="code")
    total = 0
    for code in codes:
        met_day = dt.date(2021, 5, 20) + dt.timedelta(days=rng.randint(0, 12))
        end_of_day = dt.datetime.combine(met_day + dt.timedelta(days=1), dt.time.min, tzinfo=TZ)
        _series, reached = figures.daily(divisions[code], "first_dose_people", "18+", end_of_day, met_day)
        value = _round_down(reached)
        total += value
        set_target(division_code=code, metric="first_dose_people", base="18+", value=value, due=TARGET_DUE,
                   starts=TARGET_START, acting_user=command, source="cli")
    prefecture = Division.objects.get(code=codes[0][:4] + "00")
    set_target(division_code=prefecture.code, metric="first_dose_people", base="18+", value=total, due=TARGET_DUE,
               starts=TARGET_START, acting_user=admin, source="cli")
    items = progress_items(prefecture, report_at, None)
    own = next(i for i in items if not i["is_child"])
    return {"targets": len(codes) + 1, "prefecture_target": total, "prefecture_achieved": own["achieved"],
            "prefecture_met_on": own["met_on"].isoformat() if own["met_on"] else None,
            "met_ahead": sum(1 for i in items if i["met_ahead"])}
