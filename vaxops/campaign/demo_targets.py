"""The demo's key groups and targets (issue 10, part targets; docs/targets.md, docs/keygroups.md).

Decisions:

* **Key groups.** The residents the build registered with a priority group become members
  through ``keygroups.services.add_members`` (one batch per group): medical staff under their
  county's hospital (a level-2+ one where the county has it), university students under the
  university in Kangding (四川民族学院, a unit added here), monastics under a temple unit of their
  county (synthetic, "（示例）"); Jingxi's residents are "border-area residents". Their coverage is
  what the replayed campaign gave them (the early groups vaccinated first). A few unvaccinated
  medical staff have a permanent contraindication (``registry.services.defer_person`` with no
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
CONTRAINDICATED_STAFF = 0.01  # of the medical staff not vaccinated by the report
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
    people = Person.objects.exclude(priority_groups=[]).values_list("pk", "county_code", "priority_groups",
                                                                     "home_division__code")
    for pk, county, groups, home in people.iterator(chunk_size=5000):
        for group in groups:
            unit = None
            if group == "medical_staff":
                unit = hospitals.get(county)
            elif group == "university_students":
                unit = UNIVERSITY[0]
            elif group == "monastics" and county in prefecture:
                unit = temples.setdefault(county, f"{county}-TEMPLE")
            rows[group].append({"person_id": pk, "group": group, "unit": unit, "_home": home})
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
    for pk in Person.objects.filter(county_code=jingxi).values_list("pk", flat=True):
        rows["border_residents"].append({"person_id": pk, "group": "border_residents"})
    added = 0
    for group_rows in rows.values():
        # Batches of BATCH rows: each its own transaction, and within SQLite's bound on parameters.
        for start in range(0, len(group_rows), BATCH):
            batch = [{k: v for k, v in r.items() if k != "_home"} for r in group_rows[start:start + BATCH]]
            added += add_members(batch, acting_user=admin, source="cli")["added"]
    # A few medical staff not vaccinated by the report moment cannot be (a permanent contraindication).
    staff_ids = [r["person_id"] for r in rows.get("medical_staff", [])]
    dosed = set(DoseRecord.objects.filter(person_id__in=staff_ids, status=DoseStatus.VALID, dose_number=1)
                .values_list("person_id", flat=True))
    open_staff = sorted(set(staff_ids) - dosed)
    chosen = rng.sample(open_staff, max(1, round(CONTRAINDICATED_STAFF * len(staff_ids)))) if open_staff else []
    for pk in chosen:
        defer_person(person_id=pk, code="severe_allergic_reaction", since=dt.date(2021, 4, 20),
                     note="既往严重过敏史，经评估为禁忌（示例）", acting_user=admin, source="cli")
    return {"members": added, "groups": len(rows), "contraindicated": len(chosen),
            "units_added": len(temples) + (1 if rows.get("university_students") else 0)}


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
