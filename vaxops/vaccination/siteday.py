"""What the site desk shows beside the work: the site's own day, and the next dose of a person.

Reads only, through ``vaxops.access.scope``. The day is one site's doses of one calendar day
(campaign time zone): a few thousand rows at most at a mass site, grouped by the database, so
no counter is needed for it (the division counters do not carry the site).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count
from django.db.models.functions import TruncHour

from vaxops.access.scope import restrict
from vaxops.campaign.services import TZ
from vaxops.catalog.models import Product
from vaxops.registry.models import Person
from vaxops.sites.models import Site
from vaxops.vaccination.models import DoseKind, DoseRecord, DoseStatus
from vaxops.vaccination.services import assess_person, dose_history

# How many of the site's latest records the desk lists (with an undo for the site manager).
LAST_RECORDS = 10


@dataclass(frozen=True)
class NextDose:
    """The dose a person should come back for, from the catalogue's rules."""

    number: int
    kind: str
    earliest: dt.date
    due_by: dt.date | None


def next_dose(person: Person, product: Product, on: dt.date) -> NextDose | None:
    """The next dose after the one just recorded on ``on``: its number, the first day it may be
    given and the day it is due by; ``None`` when no further dose is scheduled.

    Asked of the same rules that decide eligibility (``assess_person`` on the day of the dose,
    with that dose in the history), so the slip never promises a day the desk would refuse.
    """
    verdict = assess_person(person, product, on, dose_history(person))
    if verdict.status == "refused" or verdict.dose_number is None:
        return None
    return NextDose(
        number=verdict.dose_number, kind=verdict.kind or DoseKind.PRIMARY,
        earliest=verdict.earliest_date or on, due_by=verdict.due_by,
    )


def _bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=TZ)
    return start, start + dt.timedelta(days=1)


def site_day(user: Any, site: Site, day: dt.date) -> dict[str, Any]:
    """Doses given at ``site`` on ``day``: totals (first, later primary, booster), per hour,
    and the latest records (voided ones included, marked), as far as ``user`` may see them."""
    start, end = _bounds(day)
    doses = restrict(
        DoseRecord.objects.filter(site=site, administered_at__gte=start, administered_at__lt=end), user, "dose.view"
    )
    rows = (
        doses.filter(status=DoseStatus.VALID)
        .annotate(hour=TruncHour("administered_at", tzinfo=TZ))
        .values("hour", "kind", "dose_number")
        .annotate(n=Count("id"))
        .order_by()
    )
    totals = {"first": 0, "second": 0, "booster": 0}
    hours: dict[int, dict[str, int]] = {}
    for row in rows:
        if row["kind"] == DoseKind.BOOSTER:
            key = "booster"
        else:
            key = "first" if row["dose_number"] == 1 else "second"
        totals[key] += row["n"]
        hour = row["hour"].astimezone(TZ).hour
        slot = hours.setdefault(hour, {"first": 0, "second": 0, "booster": 0})
        slot[key] += row["n"]
    per_hour = [
        {"hour": h, "label": f"{h:02d}:00", "total": sum(c.values()), **c} for h, c in sorted(hours.items())
    ]
    peak = max((h["total"] for h in per_hour), default=0)
    latest = list(
        doses.select_related("person", "product", "lot").order_by("-administered_at", "-pk")[:LAST_RECORDS]
    )
    return {
        "site": site,
        "day": day,
        "total": sum(totals.values()),
        **totals,
        "per_hour": per_hour,
        "peak": peak,
        "latest": latest,
    }
