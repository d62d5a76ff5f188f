"""The demo's outreach: a week of contact attempts (2021-05-26 to 2021-06-01) by the grid worker
of Kangding's first street office in the first grids of its communities, through
``outreach.services.record_contact`` (the one writer of contacts; status changes through
``registry.status``).

Decisions: the residents on the work lists on the day of their contact (never vaccinated or
due for dose 2) in the ``GRIDS`` grids with the most residents to reach, at most ``PER_GRID`` each (scaled), the oldest and key
groups first as the list orders them; one attempt each, a second one for a fifth of the
unreached; outcomes drawn with ``WEIGHTS`` (roughly what communities reported: most reached by
phone, a few refusals with their concern, some away working elsewhere); a handful of status
changes (moved out, deceased) and one permanent contraindication. Seeded by the build's seed.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from vaxops.campaign.services import TZ

if TYPE_CHECKING:  # pragma: no cover
    from vaxops.campaign.demo import DemoBuilder

TOWNSHIP = "513301001"
GRIDS = 4
PER_GRID = 60
FIRST_DAY = dt.date(2021, 5, 26)
DAYS = 7
WEIGHTS = (
    ("will_come", 30), ("unreachable", 18), ("hesitant", 12), ("away", 10), ("refused", 7),
    ("vaccinated_elsewhere", 6), ("deferred", 5), ("moved_out", 3), ("deceased", 1), ("contraindicated", 1),
)
CONCERNS = ("safety", "no_need", "no_time", "too_far", "health")


def build(builder: DemoBuilder, admin: Any) -> None:
    from vaxops.outreach.models import ContactAttempt
    from vaxops.outreach.services import record_contact
    from vaxops.outreach.worklists import page
    from vaxops.regions.models import Division, Level

    rng = random.Random(builder.seed * 1009 + 10)
    worker = get_user_model().objects.get(username="grid_worker")
    township = Division.objects.get(code=TOWNSHIP)
    # The grids with the most residents still to reach (the ones a street office would start with).
    from django.db.models import Count

    from vaxops.outreach.models import DueEntry

    busiest = (DueEntry.objects.filter(home_path__startswith=township.path, kind__in=["first", "next"])
               .values("home_path").annotate(n=Count("person_id")).order_by("-n", "home_path")[:GRIDS])
    paths = [row["home_path"] for row in busiest]
    chosen = sorted(Division.objects.filter(path__in=paths, level=Level.GRID), key=lambda d: paths.index(d.path))
    per_grid = max(5, round(PER_GRID * min(1.0, builder.scale * 50)))
    counts: dict[str, int] = {}
    outcomes, codes = zip(*WEIGHTS, strict=True)
    for grid in chosen:
        day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
        listed = [e.person_id for kind in ("unvaccinated", "overdue", "due")
                  for e in page(worker, grid, kind, day, limit=per_grid)]
        for person_id in listed[:per_grid]:
            day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
            at = dt.datetime.combine(day, dt.time(rng.randint(9, 19), rng.randrange(60)), TZ)
            outcome = rng.choices(outcomes, weights=codes)[0]
            _contact(record_contact, worker, person_id, outcome, at, rng)
            counts[outcome] = counts.get(outcome, 0) + 1
            if outcome == "unreachable" and rng.random() < 0.2 and day < FIRST_DAY + dt.timedelta(days=DAYS - 1):
                again = at + dt.timedelta(days=1, hours=rng.randint(-2, 2))
                _contact(record_contact, worker, person_id, "will_come", again, rng, channel="visit")
                counts["will_come"] = counts.get("will_come", 0) + 1
    total = ContactAttempt.objects.count()
    builder.report.later["outreach"] = {"contacts": total, "grids": [g.code for g in chosen], "outcomes": counts}
    builder.clock.done("outreach", f"{total} contact attempts in {len(chosen)} grids of {TOWNSHIP}, "
                                   f"{FIRST_DAY:%m-%d} to {FIRST_DAY + dt.timedelta(days=DAYS - 1):%m-%d}")


def _contact(record_contact, worker, person_id: int, outcome: str, at: dt.datetime, rng: random.Random,
             channel: str | None = None) -> None:
    extra: dict[str, Any] = {}
    day = at.astimezone(TZ).date()
    if outcome == "away":
        extra = {"until": day + dt.timedelta(days=rng.randint(10, 45)),
                 "place": rng.choice(["in_county", "out_of_county"]), "note": "外出务工（示例）"}
    elif outcome == "deferred":
        extra = {"until": day + dt.timedelta(days=rng.randint(7, 21)), "note": "近期发热，暂缓（示例）"}
    elif outcome == "refused":
        extra = {"concern": rng.choice(CONCERNS)}
    elif outcome == "contraindicated":
        extra = {"reason": "severe_allergic_reaction", "note": "既往严重过敏史（示例）"}
    elif outcome == "vaccinated_elsewhere":
        extra = {"note": "自述已在成都接种，待核实（示例）"}
    record_contact(client_uuid=uuid.UUID(int=rng.getrandbits(128)), person_id=person_id,
                   channel=channel or rng.choice(["phone", "phone", "phone", "visit", "household"]),
                   outcome=outcome, at=at, acting_user=worker, source="cli", **extra)
