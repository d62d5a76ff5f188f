"""The demo's AEFI: a handful of synthetic reports through ``safety.services.report_aefi``.

Decisions: one serious case (anaphylaxis in observation at Renzhuang on 2021-05-11, taken to
the county hospital, recovered), reported 78 minutes after it was detected, within its 2-hour
clock; none fatal; five non-serious (a faint at Renzhuang, a fever and a large local reaction
there the next days, an allergic rash and a fever after the Kangding gymnasium's mass days),
each reported within 48 hours. Each report names its dose; the site staff report them (the
Renzhuang health centre's manager, the gymnasium's), the supervisor of the CDC triages (40
minutes after the report), investigates (two days) and classifies (nine days) all but one,
which stays reported (an open case). The events
are of different groups, so no cluster is raised. Names and histories are synthetic.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from vaxops.campaign.services import TZ

if TYPE_CHECKING:  # pragma: no cover
    from vaxops.campaign.demo import DemoBuilder


@dataclass(frozen=True)
class Case:
    """One synthetic report: minutes after the dose of onset, detection and report; the events."""

    place: str  # "renzhuang" or "gymnasium"
    onset: int
    detected: int
    reported: int
    events: tuple[str, ...]
    serious: bool = False
    criteria: tuple[str, ...] = ()
    signs: tuple[str, ...] = ()
    outcome: str = "recovered"
    description: str = ""
    classify: tuple[str, str, int | None] | None = None  # WHO, Chinese category, Brighton level


CASES = (
    Case("renzhuang", 8, 10, 88, ("anaphylaxis",), serious=True, criteria=("hospitalisation",),
         signs=("generalised_urticaria", "bilateral_wheeze", "measured_hypotension"),
         description="留观期间出现全身荨麻疹、喘鸣、血压下降，肌注肾上腺素后由救护车转送靖西市人民医院，住院观察2天痊愈（示例）",
         classify=("A1", "abnormal_reaction", 1)),
    Case("renzhuang", 3, 4, 300, ("syncope",), description="接种后数分钟晕厥，平卧后恢复（示例）",
         classify=("A4", "psychogenic", None)),
    Case("renzhuang", 14 * 60, 22 * 60, 25 * 60, ("fever_38_6",), description="腋温38.8℃，对症处理后退热（示例）",
         classify=("A1", "general_reaction", None)),
    Case("renzhuang", 26 * 60, 46 * 60, 48 * 60 - 30, ("local_reaction_2_5cm",), outcome="recovering",
         description="注射部位红肿直径约3厘米（示例）"),
    Case("gymnasium", 20, 22, 95, ("allergic_reaction",), description="留观期间出现局部荨麻疹，口服抗组胺药后缓解（示例）",
         classify=("A1", "abnormal_reaction", None)),
    Case("gymnasium", 10 * 60, 20 * 60, 24 * 60, ("fever_38_6",), description="腋温38.6℃（示例）",
         classify=("A1", "general_reaction", None)),
)


def report_demo_aefi(builder: DemoBuilder) -> dict[str, Any]:
    """Write the cases; returns the figures for the build's report."""
    from vaxops.safety.services import classify, investigate, report_aefi, triage
    from vaxops.vaccination.models import DoseRecord

    User = get_user_model()
    users = {u.username: u for u in User.objects.filter(username__in=["renzhuang_manager", "site_manager",
                                                                       "supervisor"])}
    jingxi = builder.jingxi
    baise_cdc = User.objects.get(pk=jingxi.supervisor_id)
    rng = random.Random(f"{builder.seed}-aefi")
    # The doses: Renzhuang's serious case is the person taken to hospital; the others are drawn.
    renzhuang = [jingxi.dose_of[i] for i in range(len(jingxi.people)) if i != jingxi.hospital_visit]
    gym = list(DoseRecord.objects.filter(site__code="513301-MASS").order_by("administered_at", "pk")
               .values_list("pk", flat=True)[:2000])
    picked = {"renzhuang": [jingxi.dose_of[jingxi.hospital_visit], *rng.sample(renzhuang, 3)],
              "gymnasium": rng.sample(gym, 2) if len(gym) >= 2 else gym}
    doses = DoseRecord.objects.select_related("person").in_bulk([pk for pks in picked.values() for pk in pks])
    used = {"renzhuang": 0, "gymnasium": 0}
    out = {"reports": 0, "serious": 0, "classified": 0, "serious_reported_minutes": None}
    for case in CASES:
        if used[case.place] >= len(picked[case.place]):
            continue
        dose = doses[picked[case.place][used[case.place]]]
        used[case.place] += 1
        given = dose.administered_at.astimezone(TZ)
        reporter = users["renzhuang_manager"] if case.place == "renzhuang" else users["site_manager"]
        report = report_aefi(
            client_uuid=uuid.UUID(int=rng.getrandbits(128), version=4), person=dose.person, dose=dose,
            onset_at=given + dt.timedelta(minutes=case.onset), detected_at=given + dt.timedelta(minutes=case.detected),
            events=case.events, serious=case.serious, serious_criteria=case.criteria, outcome=case.outcome,
            description=case.description, signs=case.signs, acting_user=reporter,
            at=given + dt.timedelta(minutes=case.reported), source="cli")
        out["reports"] += 1
        if case.serious:
            out["serious"] += 1
            out["serious_reported_minutes"] = case.reported - case.detected
        if case.classify:
            supervisor = baise_cdc if case.place == "renzhuang" else users["supervisor"]
            # The county CDC takes the report in within the hour, investigates within two days
            # and classifies a week later (times of the replayed history).
            reported = given + dt.timedelta(minutes=case.reported)
            triage(report, acting_user=supervisor, source="cli", at=reported + dt.timedelta(minutes=40))
            investigate(report, findings="现场调查：接种操作规范，疫苗储存温度正常（示例）", acting_user=supervisor,
                        source="cli", at=reported + dt.timedelta(days=2))
            who, cn, level = case.classify
            classify(report, who_category=who, cn_category=cn, brighton_level=level, acting_user=supervisor,
                     source="cli", at=reported + dt.timedelta(days=9))
            out["classified"] += 1
    return out


__all__ = ["CASES", "report_demo_aefi"]
