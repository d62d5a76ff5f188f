"""A session's site figures measured from its visits, beside the simulator's prediction for the
same day with the same stations.

Measured: doses per hour (by the hour of the dose), the wait from check-in to the dose (mean
and 95th percentile), the busiest hour. Predicted: the simulator run with the day's own
arrivals (the check-ins in 10-minute groups, each spread over its 10 minutes), the session's
stations and the scenario's service times; the same three figures from its traces, as means
over ten replications.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import numpy as np

from vaxops.campaign.services import TZ
from vaxops.planning.simulation import parse_config
from vaxops.planning.simulation.engine import SiteDay
from vaxops.sites.models import Session
from vaxops.visits.models import Visit
from vaxops.visits.whatif import DEFAULT_CLOSES, DEFAULT_SERVICE, REPLICATIONS, minutes_of, seed_of

BUCKET_MINUTES = 10


def _hours(counter: Counter) -> list[int]:
    return sorted(counter)


def measured(session: Session) -> dict[str, Any]:
    """The figures of the visits recorded (one statement)."""
    rows = list(Visit.objects.filter(session=session).values_list("checked_in_at", "vaccinated_at"))
    per_hour: Counter = Counter()
    waits = []
    for checked_in, vaccinated in rows:
        if vaccinated is None:
            continue
        per_hour[int(minutes_of(session, vaccinated) // 60)] += 1
        waits.append((vaccinated - checked_in).total_seconds() / 60.0)
    return _summary(per_hour, waits, arrivals=len(rows))


def _summary(per_hour: Counter, waits: list[float], *, arrivals: float) -> dict[str, Any]:
    busiest = max(per_hour.items(), key=lambda kv: (kv[1], -kv[0]), default=None)
    values = np.asarray(waits, dtype=float)
    return {
        "arrivals": arrivals,
        "doses": int(round(sum(per_hour.values()))),
        "doses_per_hour": {h: per_hour[h] for h in _hours(per_hour)},
        "mean_wait_minutes": round(float(values.mean()), 1) if len(values) else None,
        "p95_wait_minutes": round(float(np.percentile(values, 95)), 1) if len(values) else None,
        "busiest_hour": busiest[0] if busiest else None,
        "busiest_hour_doses": busiest[1] if busiest else 0,
    }


def predicted(session: Session, stations: dict[str, int]) -> dict[str, Any] | None:
    """The simulator's figures for the day's arrivals and ``stations`` (None without visits)."""
    checked_in = [minutes_of(session, t) for t in
                  Visit.objects.filter(session=session).values_list("checked_in_at", flat=True)]
    if not checked_in:
        return None
    buckets = Counter(int(m // BUCKET_MINUTES) for m in checked_in)
    arrivals = [{"kind": "crowd", "count": n, "at": b * BUCKET_MINUTES, "spread_minutes": BUCKET_MINUTES}
                for b, n in sorted(buckets.items())]
    closes = minutes_of(session, dt.datetime.combine(session.date, session.closes_at or DEFAULT_CLOSES, TZ))
    last = max(b * BUCKET_MINUTES + BUCKET_MINUTES for b in buckets)
    config = parse_config({
        "arrivals": arrivals,
        "stages": [
            {"name": "screening", "servers": max(1, stations["screening"]), "service": DEFAULT_SERVICE["screening"]},
            {"name": "vaccination", "servers": max(1, stations["vaccination"]),
             "service": DEFAULT_SERVICE["vaccination"]},
            {"name": "observation", "seats": max(1, stations["observation"])},
        ],
        "open": min(b * BUCKET_MINUTES for b in buckets), "close": max(closes, last + 1),
        "replications": REPLICATIONS, "seed": seed_of(session), "timeline_minutes": 0,
    })
    per_hour: Counter = Counter()
    waits: list[float] = []
    for r in range(REPLICATIONS):
        trace = SiteDay(config, r).run()
        done = trace.start[1] + trace.service[1]
        for h, n in Counter(int(m // 60) for m in done[~np.isnan(done)]).items():
            per_hour[h] += n / REPLICATIONS
        waits.extend((trace.start[1] - trace.arrival)[~np.isnan(trace.start[1])].tolist())
    out = _summary(per_hour, waits, arrivals=len(checked_in))
    out["doses_per_hour"] = {h: round(v, 1) for h, v in out["doses_per_hour"].items()}
    out["busiest_hour_doses"] = round(out["busiest_hour_doses"], 1)
    return out


def session_waits(session: Session) -> dict[str, Any]:
    """The figure a session keeps when it closes (``sites.figures.register("waits", …)``)."""
    m = measured(session)
    return {"visits": {"checked_in": m["arrivals"], "vaccinated": m["doses"],
                       "mean_wait_minutes": m["mean_wait_minutes"], "p95_wait_minutes": m["p95_wait_minutes"],
                       "busiest_hour": m["busiest_hour"]}}
