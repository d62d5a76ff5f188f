"""What a target counts, as of a moment and day by day (reads only).

People metrics count residents (the person's home division when vaccinated: coverage, the
``ResidenceCounter`` view); doses count where they were given (``DoseCounter``). Whole days come
from the counters, the day of the moment itself from that day's dose records (as
``campaign.services.summary`` does), so no read grows with the campaign's length. A key-group
base counts the group's eligible members (``keygroups.stats``).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Q, Sum
from django.db.models.functions import TruncDate

from vaxops.campaign.models import DoseCounter, ResidenceCounter
from vaxops.campaign.services import TZ, _counties, _residents_of
from vaxops.keygroups.models import Membership
from vaxops.keygroups.stats import OUT_STATUSES, contraindicated_at, group_figures, in_area, members_at
from vaxops.regions.models import Division
from vaxops.vaccination.models import DoseRecord, DoseStatus

from .models import AGE_BASES, Metric

PEOPLE = {
    Metric.FIRST_DOSE_PEOPLE: Q(dose_number=1, kind="primary"),
    Metric.COMPLETED_PEOPLE: Q(completes_series=True),
    Metric.DOSES: Q(),
}


def population(division: Division, base: str, at: dt.datetime) -> int:
    """The population a coverage percentage is of: the division's census bands, or a key group's
    eligible members as of ``at``."""
    if base in AGE_BASES:
        return sum(getattr(division, f"pop_{band.replace('-', '_').replace('+', '_plus')}")
                   for band in AGE_BASES[base])
    members = in_area(Membership.objects.filter(group__code=base), division)
    rows = [g for g in group_figures(members, at) if g["code"] == base]
    return rows[0]["eligible"] if rows else 0


def daily(division: Division, metric: str, base: str, at: dt.datetime, since: dt.date) -> tuple[
        list[tuple[dt.date, int]], int]:
    """(cumulative by the end of each day from ``since`` to the day before ``at``, the figure at
    ``at``). Days before ``since`` are summed into the first day."""
    if base not in AGE_BASES:
        return _group_daily(division, metric, base, at, since)
    at = at.astimezone(TZ)
    day = at.date()
    bands = AGE_BASES[base]
    counted = PEOPLE[metric] & Q(age_band__in=bands)
    if metric == Metric.DOSES:
        counters = DoseCounter.objects.filter(counted, path__startswith=division.path)
    else:
        counters = ResidenceCounter.objects.filter(counted, path__startswith=division.path)
    before = counters.filter(day__lt=since).aggregate(n=Sum("count"))["n"] or 0
    by_day = dict(counters.filter(day__gte=since, day__lt=day).values("day").annotate(n=Sum("count"))
                  .order_by().values_list("day", "n"))
    series = _cumulate(before, by_day, since, day)
    today = DoseRecord.objects.filter(
        counted, status=DoseStatus.VALID,
        administered_at__gte=dt.datetime.combine(day, dt.time.min, tzinfo=TZ), administered_at__lte=at,
    )
    if metric == Metric.DOSES:
        today = today.filter(division__path__startswith=division.path)
    else:
        today = today.filter(_residents_of(division, _counties(division)))
    now = (series[-1][1] if series else before) + today.count()
    return series, now


def _cumulate(before: int, by_day: dict[dt.date, int], since: dt.date, day: dt.date) -> list[tuple[dt.date, int]]:
    series, total, current = [], before, since
    while current < day:
        total += by_day.get(current, 0)
        series.append((current, total))
        current += dt.timedelta(days=1)
    return series


def _group_daily(division: Division, metric: str, base: str, at: dt.datetime, since: dt.date) -> tuple[
        list[tuple[dt.date, int]], int]:
    """The same for a key group: its eligible members (as of ``at``) by the day of their first
    dose (or completed series)."""
    at = at.astimezone(TZ)
    members = members_at(in_area(Membership.objects.filter(group__code=base), division), at)
    members = members.annotate(contraindicated=contraindicated_at(at)).filter(contraindicated=False).exclude(
        person__status__in=OUT_STATUSES)
    doses = DoseRecord.objects.filter(person_id__in=members.values("person_id"), status=DoseStatus.VALID,
                                      administered_at__lte=at)
    doses = doses.filter(completes_series=True) if metric == Metric.COMPLETED_PEOPLE else doses.filter(
        dose_number=1, kind="primary")
    firsts: dict[int, dt.date] = {}
    for person_id, day in doses.annotate(day=TruncDate("administered_at", tzinfo=TZ)).values_list("person_id", "day"):
        firsts[person_id] = min(day, firsts.get(person_id, day))
    by_day: dict[dt.date, int] = defaultdict(int)
    before = 0
    for day in firsts.values():
        if day < since:
            before += 1
        else:
            by_day[day] += 1
    return _cumulate(before, by_day, since, at.date()), len(firsts)


def value_at(series: list[tuple[dt.date, int]], day: dt.date) -> int:
    """The cumulative figure by the end of ``day`` from a ``daily`` series (0 before it starts)."""
    for d, cumulative in reversed(series):
        if d <= day:
            return cumulative
    return 0
