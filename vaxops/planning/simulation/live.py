"""A site-day that starts from a live state: the rest of a day already under way.

``SiteDay`` starts empty; a site manager's what-if starts at *now*, with people already
waiting at each stage and others seated in observation. ``LiveStart`` says who is where (in
queue order) and, for those already in service, how long they still need; the config's
arrivals are the people still to come (from ``now``). The present are admitted first, at
``now``, each straight into their stage; everything else is the engine as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .arrivals import CrowdArrivals
from .config import SimulationConfig
from .engine import ReplicationTrace, SiteDay
from .results import replication_figures


@dataclass(frozen=True)
class LiveStart:
    """The people inside at ``now``: ``stages[i]`` is the stage index person *i* is at (in
    the order they are served: those in service first, then each queue first come first),
    ``remaining[i]`` the minutes of service they still need there (``None``: draw it)."""

    now: float
    stages: tuple[int, ...]
    remaining: tuple[float | None, ...]

    def __post_init__(self) -> None:
        if len(self.stages) != len(self.remaining):
            raise ValueError("stages and remaining differ in length")


def live_config(config: SimulationConfig, start: LiveStart) -> SimulationConfig:
    """``config`` with the present added as a crowd at ``now`` (drawing no random numbers, so
    the arrivals still to come draw the same with or without them) and closing no earlier
    than ``now`` (everyone inside is finished)."""
    present = (CrowdArrivals(len(start.stages), start.now),) if start.stages else ()
    close = max(config.close, math.nextafter(start.now, math.inf))
    return replace(config, arrivals=present + tuple(config.arrivals), close=close, open=min(config.open, start.now))


class LiveSiteDay(SiteDay):
    """One replication from a live start. Build it with ``live_config(config, start)``."""

    def __init__(self, config: SimulationConfig, replication: int, start: LiveStart) -> None:
        self.start_state = start
        self._seeded = not start.stages
        super().__init__(config, replication)
        # The present are persons 0 … len(stages)-1: their arrival time, now, sorts before anyone still
        # to come (who arrive after now), and among equal times order does not matter here.
        for i, (stage, left) in enumerate(zip(start.stages, start.remaining, strict=True)):
            if left is not None:
                self.flows[stage].service[i] = max(0.0, float(left))
            # Stages passed already take no time (their service was drawn but is not used).
            for k in range(stage):
                self.flows[k].service[i] = 0.0

    def _admit(self, event: Any) -> None:
        if self._seeded:
            super()._admit(event)
            return
        self._seeded = True
        start = self.start_state
        for i, stage in enumerate(start.stages):
            self.flows[stage].arrive(i)
        i = len(start.stages)
        times = self._arrival_list
        now = self.env._now
        while i < len(times) and times[i] <= now:
            self.flows[0].arrive(i)
            i += 1
        self._next_arrival = i
        if i < len(times):
            from simpy.events import Timeout

            Timeout(self.env, times[i] - now).callbacks.append(self._admit)


def run_live(config: SimulationConfig, start: LiveStart, replication: int) -> tuple[ReplicationTrace, dict]:
    """The trace and the figures of one replication from ``start`` (``config`` as given to
    ``live_config``)."""
    full = live_config(config, start)
    trace = LiveSiteDay(full, replication, start).run()
    return trace, replication_figures(full, trace, replication)


def run_live_trace(config: SimulationConfig, start: LiveStart, replication: int) -> ReplicationTrace:
    """Only the trace of ``run_live`` (the what-if reads departures and queue clearing times from
    it and skips the figures, a third of the cost)."""
    return LiveSiteDay(live_config(config, start), replication, start).run()


def queue_clears_at(trace: ReplicationTrace) -> float | None:
    """The last time any stage's queue emptied in ``trace`` (``None``: no queue formed)."""
    times = [t for t in trace.queue_cleared_at if t is not None]
    return max(times) if times else None


def completed_by(traces: Sequence[ReplicationTrace], times: Sequence[float]) -> list[float]:
    """The mean number of people who left by each of ``times`` over the replications."""
    out = []
    for t in times:
        out.append(float(np.mean([(tr.departure <= t).sum() for tr in traces])) if traces else 0.0)
    return out
