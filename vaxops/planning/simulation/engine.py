"""One replication of a site-day as a SimPy discrete-event simulation.

People pass the stages in series; each stage is a pool of servers (desks, stations, seats)
with one first-come-first-served queue in front of it and room to wait between stages, so a
full observation area makes people stand and wait, never blocks a vaccination station.

The hot path is written for speed, since a mass site-day is tens of thousands of events:
every random number is drawn up front with numpy; a person is an integer index into
per-stage lists; a service is one SimPy ``Timeout`` whose callback moves the person on,
rather than a generator process per person (which would cost an extra event and a
generator resume per step). Arrivals are a chain of timeouts, one per distinct arrival
instant; staffing changes are events scheduled up front.
"""

from __future__ import annotations

import math
from array import array
from collections import deque
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy
from simpy.core import URGENT
from simpy.events import Event, Timeout

from .config import SimulationConfig


def replication_rng(seed: int, replication: int) -> np.random.Generator:
    """The random generator of one replication, seeded from ``(seed, replication)``.

    Replications are independent streams of one ``SeedSequence`` family, so a replication
    draws the same numbers whichever worker runs it and whatever ran before it.
    """
    return np.random.default_rng([seed, replication])


class _StageFlow:
    """The live state of one stage during a replication."""

    __slots__ = (
        "env",
        "capacity",
        "busy",
        "queue",
        "service",
        "enter",
        "start",
        "move_on",
        "max_queue",
        "peak_busy",
        "count_queue",
        "queue_cleared_at",
        "_done_cb",
    )

    def __init__(self, env: simpy.Environment, capacity: int, service: list[float], size: int) -> None:
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self.queue: deque[int] = deque()
        self.service = service
        # Typed arrays hold a long steady-state run's millions of times as raw doubles
        # (a list would hold a float object each) and hand them to numpy without a copy.
        self.enter = array("d", [math.nan]) * size
        self.start = array("d", [math.nan]) * size
        self.move_on: Callable[[int], None] = _nobody
        self.max_queue = 0
        self.peak_busy = 0
        # The maximum queue counts from the end of the warm-up only.
        self.count_queue = False
        self.queue_cleared_at: float | None = None
        self._done_cb = self._done

    def arrive(self, person: int) -> None:
        now = self.env._now
        self.enter[person] = now
        if self.busy < self.capacity:
            self._serve(person, now)
        else:
            queue = self.queue
            queue.append(person)
            if self.count_queue and len(queue) > self.max_queue:
                self.max_queue = len(queue)

    def _serve(self, person: int, now: float) -> None:
        self.busy += 1
        if self.busy > self.peak_busy:
            self.peak_busy = self.busy
        self.start[person] = now
        Timeout(self.env, self.service[person], person).callbacks.append(self._done_cb)

    def _done(self, event: Event) -> None:
        person = event._value
        queue = self.queue
        # After a shift reduction more servers may be busy than are on duty: a server
        # finishes the person in front of them and leaves only then.
        if queue and self.busy <= self.capacity:
            now = self.env._now
            nxt = queue.popleft()
            self.start[nxt] = now
            Timeout(self.env, self.service[nxt], nxt).callbacks.append(self._done_cb)
            if not queue:
                self.queue_cleared_at = now
        else:
            self.busy -= 1
        self.move_on(person)

    def on_staffing_change(self, event: Event) -> None:
        self.set_capacity(event._value)

    def set_capacity(self, capacity: int) -> None:
        self.capacity = capacity
        queue = self.queue
        now = self.env._now
        while queue and self.busy < capacity:
            self._serve(queue.popleft(), now)
            if not queue:
                self.queue_cleared_at = now


def _nobody(person: int) -> None:  # pragma: no cover - replaced before the run
    raise AssertionError("stage has no successor")


@dataclass
class ReplicationTrace:
    """Raw per-person record of one replication (minutes; NaN where not reached)."""

    arrival: np.ndarray
    enter: np.ndarray  # stages × people
    start: np.ndarray
    service: np.ndarray
    departure: np.ndarray
    admitted: int
    turned_away: int
    max_queue: list[int]
    peak_busy: list[int]
    queue_cleared_at: list[float | None]
    stopped_at: float | None
    queue_now: list[int]
    busy_now: list[int]


class SiteDay:
    """One replication of the site: build it, ``run()`` it, read its trace."""

    def __init__(self, config: SimulationConfig, replication: int) -> None:
        self.config = config
        self.replication = replication
        rng = replication_rng(config.seed, replication)
        drawn = [source.draw(rng) for source in config.arrivals]
        times = np.sort(np.concatenate(drawn)) if drawn else np.empty(0)
        # Admission stops at closing time: later arrivals are turned away at the gate.
        admitted = int(np.searchsorted(times, config.close, side="left"))
        self.turned_away = len(times) - admitted
        self.arrival_times = times[:admitted]
        size = admitted
        self.service_times = [stage.service.sample(rng, size) for stage in config.stages]
        self.env = simpy.Environment()
        self.flows = [
            _StageFlow(self.env, stage.capacity_at(0.0), times_.tolist(), size)
            for stage, times_ in zip(config.stages, self.service_times, strict=True)
        ]
        for flow, nxt in zip(self.flows, self.flows[1:], strict=False):
            flow.move_on = nxt.arrive
        self.departure = array("d", [math.nan]) * size
        self.flows[-1].move_on = self._depart
        self.completed = 0
        self._arrival_list: list[float] = self.arrival_times.tolist()
        self._next_arrival = 0
        if size:
            Timeout(self.env, self._arrival_list[0]).callbacks.append(self._admit)
        for stage, flow in zip(config.stages, self.flows, strict=True):
            for start, count in stage.schedule:
                if start > 0:
                    # Urgent, so a shift change takes effect before arrivals and service
                    # ends at the same instant: people arriving at 12:00 meet the lunch-hour
                    # staffing, not the morning's.
                    change = Event(self.env)
                    change._ok = True
                    change._value = count
                    change.callbacks.append(flow.on_staffing_change)
                    self.env.schedule(change, URGENT, start)
        if config.warmup_minutes > 0:
            self.env.process(self._end_warmup(config.warmup_minutes))
        else:
            for flow in self.flows:
                flow.count_queue = True

    def _depart(self, person: int) -> None:
        self.departure[person] = self.env._now
        self.completed += 1

    def _admit(self, event: Event) -> None:
        # Arrivals are a chain of timeouts, one per distinct arrival instant: a crowd of
        # a thousand shares one event, and there is no generator to resume per arrival.
        times = self._arrival_list
        i = self._next_arrival
        now = self.env._now
        enter_first = self.flows[0].arrive
        enter_first(i)
        i += 1
        n = len(times)
        while i < n and times[i] <= now:
            enter_first(i)
            i += 1
        self._next_arrival = i
        if i < n:
            Timeout(self.env, times[i] - now).callbacks.append(self._admit)

    def _end_warmup(self, warmup: float) -> Generator[Event, Any, None]:
        yield self.env.timeout(warmup)
        for flow in self.flows:
            flow.count_queue = True
            flow.max_queue = len(flow.queue)

    def run(self, until: float | None = None) -> ReplicationTrace:
        """Run to the end (everyone admitted finished), or stop at ``until`` for a snapshot."""
        if until is None:
            self.env.run()
        else:
            self.env.run(until=until)
        enter = np.array([np.frombuffer(flow.enter) for flow in self.flows]).reshape(len(self.flows), -1)
        # The clock reaches a drawn arrival time as a sum of delays, which can differ from
        # it in the last bit; the arrival of record is the clock's, so that every duration
        # is measured on one clock and none comes out negative.
        arrival = np.where(np.isnan(enter[0]), self.arrival_times, enter[0])
        trace = ReplicationTrace(
            arrival=arrival,
            enter=enter,
            start=np.array([np.frombuffer(flow.start) for flow in self.flows]).reshape(len(self.flows), -1),
            service=np.array(self.service_times, dtype=float).reshape(len(self.flows), -1),
            departure=np.frombuffer(self.departure).copy(),
            admitted=len(self.arrival_times),
            turned_away=self.turned_away,
            max_queue=[flow.max_queue for flow in self.flows],
            peak_busy=[flow.peak_busy for flow in self.flows],
            queue_cleared_at=[flow.queue_cleared_at for flow in self.flows],
            stopped_at=until,
            queue_now=[len(flow.queue) for flow in self.flows],
            busy_now=[flow.busy for flow in self.flows],
        )
        if until is None:
            self._release()
        return trace

    def _release(self) -> None:
        # The stages and the day point at each other through bound-method callbacks, a
        # cycle that only the cyclic collector would free; it runs too rarely to keep up
        # with long runs, whose per-person lists would pile up replication after
        # replication. Break the cycle so they go as soon as the trace is taken.
        for flow in self.flows:
            flow.move_on = _nobody
            flow._done_cb = None  # type: ignore[assignment]
        self.flows = []
        self._arrival_list = []
