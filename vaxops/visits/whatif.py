"""What-if: the site-flow simulator (``vaxops.planning.simulation``) run from a session's live
state, and the simulator's figures for a whole session day beside the measured ones.

The live state is read from the visits at a moment: who is waiting for screening, who is
screened and waiting for a station, who sits in observation and until when. Service times are
measured from today's visits where the last hour gives enough of them (a stage that had a queue
all along completed one person every ``stations × 60 / completions`` minutes per station),
else they are the Renzhuang scenario's planning estimates. People still to come arrive at the
rate of the last hour until the session's closing time. Ten replications with a seed taken
from the session, so the same state gives the same answer.
"""

from __future__ import annotations

import datetime as dt
import math
import zlib
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db.models import Count, Q

from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.planning.simulation import parse_config
from vaxops.planning.simulation.live import LiveStart, queue_clears_at, run_live_trace
from vaxops.sites.models import Session
from vaxops.visits.models import Stage, Visit
from vaxops.visits.services import MAX_STATIONS, observation_minutes

#: Station counts of a session that set none: the Renzhuang scenario's
#: (scenarios/sim_renzhuang_2021-05-11.json: 4 desks, 4 stations, 80 seats).
DEFAULT_STATIONS = {Stage.SCREENING.value: 4, Stage.VACCINATION.value: 4, Stage.OBSERVATION.value: 80}
#: The scenario's service times (minutes) where today's visits do not measure them.
DEFAULT_SERVICE = {
    Stage.SCREENING.value: {"dist": "lognormal", "mean": 1.5, "sd": 0.6},
    Stage.VACCINATION.value: {"dist": "triangular", "low": 1.0, "mode": 1.5, "high": 2.5},
}
#: Completions in the last hour below which a stage's service time is not measured.
MIN_MEASURED = 10
REPLICATIONS = 10
DEFAULT_OPENS, DEFAULT_CLOSES = dt.time(8, 0), dt.time(17, 0)
#: At most this many hourly points in ``done_by``.
MAX_POINTS = 16


def _midnight(session: Session) -> dt.datetime:
    return dt.datetime.combine(session.date, dt.time(), TZ)


def minutes_of(session: Session, at: dt.datetime) -> float:
    """Minutes from the session day's midnight (campaign time zone) to ``at``."""
    return (at - _midnight(session)).total_seconds() / 60.0


def moment(session: Session, minutes: float) -> dt.datetime:
    return (_midnight(session) + dt.timedelta(minutes=minutes)).astimezone(TZ)


def live_state(session: Session, at: dt.datetime) -> dict[str, Any]:
    """Who is where at ``at``, read in two statements: the counts of the last hour and the
    people inside (ticket order), from the step times (so a replayed day reads at any moment)."""
    hour = at - dt.timedelta(hours=1)
    visits = Visit.objects.filter(session=session)
    figures = visits.aggregate(
        arrivals=Count("pk", filter=Q(checked_in_at__gt=hour, checked_in_at__lte=at)),
        screened_last_hour=Count("pk", filter=Q(screened_at__gt=hour, screened_at__lte=at)),
        vaccinated_last_hour=Count("pk", filter=Q(vaccinated_at__gt=hour, vaccinated_at__lte=at)),
        released=Count("pk", filter=Q(released_at__lte=at)),
    )
    gone = Q(left_at__lte=at)
    inside = list(
        visits.filter(checked_in_at__lte=at).exclude(gone).exclude(released_at__lte=at)
        .exclude(screened_at__lte=at, deferral__isnull=False)
        .order_by("ticket").values_list("screened_at", "vaccinated_at", "observation_until")
    )
    waiting, screened, seated = [], [], []
    for screened_at, vaccinated_at, until in inside:
        if vaccinated_at is not None and vaccinated_at <= at:
            seated.append(max(0.0, (until - at).total_seconds() / 60.0))
        elif screened_at is not None and screened_at <= at:
            screened.append(None)
        else:
            waiting.append(None)
    return {**figures, "waiting": len(waiting), "screened": len(screened), "seated": seated}


def _service(stage: str, stations: int, completions: int, queued: bool) -> dict[str, Any]:
    if completions >= MIN_MEASURED and queued and stations > 0:
        mean = stations * 60.0 / completions
        return {"dist": "lognormal", "mean": round(mean, 4), "sd": round(0.4 * mean, 4)}
    return DEFAULT_SERVICE[stage]


def _stations(base: Mapping[str, int], extra: Mapping[str, Any] | None) -> dict[str, int]:
    out = dict(base)
    for stage, n in (extra or {}).items():
        if stage not in Stage.values:
            raise VaxopsError("invalid_stage", {"stage": str(stage)[:40]})
        if isinstance(n, bool) or not isinstance(n, int) or not -MAX_STATIONS <= n <= MAX_STATIONS:
            raise VaxopsError("invalid_station_count", {"max": MAX_STATIONS, "stage": stage})
        out[stage] = max(out[stage] + n, 0)
    for stage in (Stage.SCREENING, Stage.VACCINATION, Stage.OBSERVATION):
        # Everyone inside is served: a stage cannot be staffed with nobody.
        out[stage] = max(out[stage], 1)
    return out


def seed_of(session: Session) -> int:
    return zlib.crc32(f"vaxops-whatif-{session.pk}".encode())


def what_if(
    session: Session, *, stations: Mapping[str, int], extra_stations: Mapping[str, Any] | None = None,
    until: dt.datetime | None = None, at: dt.datetime,
) -> dict[str, Any]:
    """The simulator's answer from the live state at ``at``: ``done_by`` (people through
    vaccination and observation by each full hour, and by ``until``; those released already
    included) and ``queue_clears_at`` (when the last queue empties; ``at`` if none is left)."""
    state = live_state(session, at)
    now = minutes_of(session, at)
    staffed = _stations(stations, extra_stations)
    closes = minutes_of(session, dt.datetime.combine(session.date, session.closes_at or DEFAULT_CLOSES, TZ))
    arrivals: list[dict[str, Any]] = []
    rate = state["arrivals"]
    start = math.nextafter(now, math.inf)
    if rate > 0 and closes > start:
        arrivals.append({"kind": "poisson", "rate_per_hour": rate, "from": start, "until": closes})
    if not arrivals:
        arrivals.append({"kind": "crowd", "count": 0, "at": now})
    base = stations
    config = parse_config({
        "arrivals": arrivals,
        "stages": [
            {"name": "screening", "servers": staffed["screening"],
             "service": _service("screening", base.get("screening", 1), state["screened_last_hour"],
                                 state["waiting"] > 0)},
            {"name": "vaccination", "servers": staffed["vaccination"],
             "service": _service("vaccination", base.get("vaccination", 1), state["vaccinated_last_hour"],
                                 state["screened"] > 0 or state["waiting"] > 0)},
            {"name": "observation", "seats": staffed["observation"],
             "service": {"dist": "fixed", "minutes": observation_minutes()}},
        ],
        "open": min(now, closes), "close": max(closes, now), "replications": REPLICATIONS,
        "seed": seed_of(session), "timeline_minutes": 0,
    })
    present = [0] * state["waiting"] + [1] * state["screened"]
    seated = state["seated"]
    live = LiveStart(now=now, stages=tuple([2] * len(seated) + present),
                     remaining=tuple(list(seated) + [None] * len(present)))
    traces, clears = [], []
    for r in range(REPLICATIONS):
        trace = run_live_trace(config, live, r)
        traces.append(trace)
        clears.append(queue_clears_at(trace))
    last = max((float(np.nanmax(t.departure)) for t in traces if len(t.departure)), default=now)
    points = []
    hour = math.floor(now / 60.0) + 1
    while hour * 60.0 <= last + 60 and len(points) < MAX_POINTS:
        points.append(hour * 60.0)
        hour += 1
    if until is not None:
        points.append(minutes_of(session, until))
        points = sorted(set(points))
    released = state["released"]
    done_by = [
        {"at": moment(session, t), "count": released + round(float(np.mean([(tr.departure <= t).sum()
                                                                           for tr in traces])))}
        for t in points
    ]
    cleared = [c for c in clears if c is not None]
    clears_at = moment(session, float(np.mean(cleared))) if cleared else at
    return {"done_by": done_by, "queue_clears_at": clears_at, "stations": staffed,
            "people_inside": len(live.stages), "replications": REPLICATIONS}
