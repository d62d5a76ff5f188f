"""The live board of a session: counts at a moment, in one grouped statement.

Counts are taken from the step times, not from the status column, so the board reads the
same whether the day is live or replayed (the demo's Renzhuang day at 10:00): a visit is
waiting at *t* if checked in by *t* and neither screened nor gone by then, and so on. A
session has a few thousand visits at most; the statement reads them through the
(session, checked-in time) index once.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from django.db.models import Count, Q

from vaxops.campaign.services import TZ
from vaxops.sites.models import Session
from vaxops.visits.models import Visit
from vaxops.visits.whatif import DEFAULT_CLOSES


def board_counts(session: Session, at: dt.datetime) -> dict[str, int]:
    """The raw counts at ``at`` (one statement)."""
    hour = at - dt.timedelta(hours=1)
    present = Q(checked_in_at__lte=at) & ~Q(left_at__lte=at)
    screened = Q(screened_at__lte=at)
    vaccinated = Q(vaccinated_at__lte=at)
    released = Q(released_at__lte=at)
    deferred = screened & Q(deferral__isnull=False)
    observing = present & vaccinated & ~released
    return Visit.objects.filter(session=session, checked_in_at__lte=at).aggregate(
        waiting=Count("pk", filter=present & ~screened),
        in_screening=Count("pk", filter=present & screened & ~Q(deferral__isnull=False) & ~vaccinated),
        in_observation=Count("pk", filter=observing),
        overdue_in_observation=Count("pk", filter=observing & Q(observation_until__lt=at)),
        vaccinated=Count("pk", filter=vaccinated),
        released=Count("pk", filter=released),
        deferred=Count("pk", filter=deferred),
        left=Count("pk", filter=Q(left_at__lte=at)),
        checked_in=Count("pk"),
        arrivals_last_hour=Count("pk", filter=Q(checked_in_at__gt=hour)),
        throughput_last_hour=Count("pk", filter=Q(vaccinated_at__gt=hour, vaccinated_at__lte=at)),
    )


def board(session: Session, at: dt.datetime) -> dict[str, Any]:
    """The board at ``at``: the counts, the expected wait for someone arriving now and when the
    queue clears at the current rate.

    The queue is everyone not yet vaccinated (waiting and screened). At the last hour's rates
    (arrivals λ, vaccinations μ per hour), arrivals keep coming until the session's closing
    time: the queue shrinks by μ − λ an hour until then, by μ after. A newcomer waits for the
    queue ahead at μ. With no vaccination in the last hour neither can be said (``None``).
    """
    counts = board_counts(session, at)
    queue = counts["waiting"] + counts["in_screening"]
    mu, lam = counts["throughput_last_hour"], counts["arrivals_last_hour"]
    expected_wait: float | None
    clears_at: dt.datetime | None
    if queue == 0:
        expected_wait, clears_at = 0.0, at
    elif mu == 0:
        expected_wait, clears_at = None, None
    else:
        expected_wait = round(queue / mu * 60.0, 1)
        closes = dt.datetime.combine(session.date, session.closes_at or DEFAULT_CLOSES, TZ)
        to_close = max(0.0, (closes - at).total_seconds() / 3600.0)
        if mu > lam and queue / (mu - lam) <= to_close:
            hours = queue / (mu - lam)
        else:
            at_close = queue + (lam - mu) * to_close
            hours = to_close + max(0.0, at_close) / mu
        clears_at = (at + dt.timedelta(hours=hours)).astimezone(TZ) if math.isfinite(hours) else None
    return {
        **counts,
        "expected_wait_minutes": expected_wait,
        "queue_clears_at": clears_at,
        "at": at.astimezone(TZ),
    }
