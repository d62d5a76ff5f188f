"""A simulated site day as visit step times: what the demo and the what-if bench replay.

One replication of a scenario (``vaxops.planning.simulation``) gives every person's arrival,
the end of their first stage (screening), the end of vaccination (the dose) and their
departure after observation. ``step_times`` turns them into moments of a day, keeping only
what had happened by ``until`` (a live state at that moment: later steps are not known yet).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from vaxops.campaign.services import TZ
from vaxops.planning.simulation import SimulationConfig
from vaxops.planning.simulation.engine import SiteDay
from vaxops.visits.services import observation_minutes


@dataclass(frozen=True)
class Steps:
    """One person's step times (``None``: not reached by ``until``)."""

    checked_in_at: dt.datetime
    screened_at: dt.datetime | None
    vaccinated_at: dt.datetime | None
    released_at: dt.datetime | None


def step_times(config: SimulationConfig, *, day: dt.date, until: dt.datetime | None = None,
               replication: int = 0) -> list[Steps]:
    """The steps of everyone who arrived by ``until`` in one replication of ``config``, in
    arrival order. The config's first stage is screening, the one before the observation seats
    is vaccination; the last is observation."""
    trace = SiteDay(config, replication).run()
    midnight = dt.datetime.combine(day, dt.time(), TZ)
    limit = math.inf if until is None else (until - midnight).total_seconds() / 60.0
    vaccination = len(config.stages) - 2

    def moment(minutes: float) -> dt.datetime | None:
        if math.isnan(minutes) or minutes > limit:
            return None
        # Whole seconds: the times a desk would record.
        return midnight + dt.timedelta(seconds=round(minutes * 60))

    out = []
    for i in range(trace.admitted):
        arrived = moment(float(trace.arrival[i]))
        if arrived is None:
            continue
        screened = moment(float(trace.start[0][i] + trace.service[0][i]))
        vaccinated = moment(float(trace.start[vaccination][i] + trace.service[vaccination][i]))
        released = moment(float(trace.departure[i]))
        if released is not None and vaccinated is not None:
            # Rounding to seconds must not release anyone a moment before observation ends.
            released = max(released, vaccinated + dt.timedelta(minutes=observation_minutes()))
        out.append(Steps(arrived, screened, vaccinated if screened else None,
                         released if vaccinated and screened else None))
    return out
