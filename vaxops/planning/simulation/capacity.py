"""Capacity search: the fewest vaccination stations and observation seats for a daily target.

The question a county command asks of a new site is "we must give N doses a day; how many
stations and seats, so that nobody queues too long?". The config supplies the shape of the
day (arrival profile, other stages, opening hours); the arrival profile is scaled so that
N people are expected, and then:

1. with ample seats, the fewest stations whose vaccination p95 wait is within the limit and
   whose day ends (last person out of observation) within ``max_overrun`` of closing;
2. with those stations, the fewest seats whose seat wait p95 is within the seat limit.

Both searches assume more servers never make things worse (true for the means these
figures are, up to simulation noise; every candidate uses the same seeds, common random
numbers, which keeps the comparison between neighbours sharp).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from .config import SimulationConfig, Stage
from .errors import SimulationConfigError
from .runner import run_replications

VACCINATION_STAGE = "vaccination"


@dataclass(frozen=True)
class Candidate:
    """The mean figures of one site layout over the replications."""

    stations: int
    seats: int | None
    completed: float
    throughput_per_hour: float
    mean_wait_minutes: float
    p95_wait_minutes: float
    utilisation: float
    seat_p95_wait_minutes: float | None
    peak_observation_occupancy: int | None
    last_departure: float
    queue_clears_at: float | None
    other_p95_waits: dict[str, float]

    def as_dict(self) -> dict[str, Any]:
        figures = {key: _clean(value) for key, value in vars(self).items()}
        figures["other_p95_waits"] = {name: round(wait, 4) for name, wait in self.other_p95_waits.items()}
        return figures


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return round(value, 4) if math.isfinite(value) else None
    return value


def _mean(values: list[Any]) -> float:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else math.nan


class CapacitySearch:
    """Evaluates layouts of one site, remembering each so no layout runs twice."""

    def __init__(
        self,
        config: SimulationConfig,
        *,
        max_p95_wait: float,
        max_seat_wait: float,
        max_overrun: float,
        workers: int = 1,
    ) -> None:
        if config.stage(VACCINATION_STAGE) is None:
            raise SimulationConfigError(
                "no_vaccination_stage", 'plan-site needs a stage named "vaccination"', "stages"
            )
        self.config = config
        self.max_p95_wait = max_p95_wait
        self.max_seat_wait = max_seat_wait
        self.max_overrun = max_overrun
        self.workers = workers
        self.observation = config.observation_stage()
        # Seats enough for everyone at once: the station search must not be held up by seats.
        self.ample_seats = max(1, math.ceil(config.expected_arrivals() * 1.2) + 10)
        self._cache: dict[tuple[int, int | None], Candidate] = {}

    def evaluate(self, stations: int, seats: int | None = None) -> Candidate:
        key = (stations, seats)
        if key in self._cache:
            return self._cache[key]
        vaccination = self.config.stage(VACCINATION_STAGE)
        assert vaccination is not None
        config = self.config.with_stage(vaccination.with_servers(stations))
        if self.observation is not None:
            config = config.with_stage(_with_seats(self.observation, seats or self.ample_seats))
        config = replace(config, timeline_minutes=0.0)
        reps = run_replications(config, self.workers)
        stage_figures = [f["stages"][VACCINATION_STAGE] for f in reps]
        obs = [f["stages"][self.observation.name] for f in reps] if self.observation else None
        candidate = Candidate(
            stations=stations,
            seats=seats,
            completed=_mean([f["completed"] for f in reps]),
            throughput_per_hour=_mean([f["throughput_per_hour"] for f in reps]),
            mean_wait_minutes=_mean([s["mean_wait_minutes"] for s in stage_figures]),
            p95_wait_minutes=_mean([s["p95_wait_minutes"] for s in stage_figures]),
            utilisation=_mean([s["utilisation"] for s in stage_figures]),
            seat_p95_wait_minutes=_mean([s["p95_wait_minutes"] for s in obs]) if obs else None,
            # Seats are planned for the busiest replication, not the average one.
            peak_observation_occupancy=max(f["peak_observation_occupancy"] for f in reps) if obs else None,
            last_departure=_mean([f["last_departure"] for f in reps]),
            queue_clears_at=_mean([f["queue_clears_at"] for f in reps]),
            other_p95_waits={
                stage.name: _mean([f["stages"][stage.name]["p95_wait_minutes"] for f in reps])
                for stage in config.stages
                if stage.name != VACCINATION_STAGE and not stage.is_observation
            },
        )
        self._cache[key] = candidate
        return candidate

    def day_ends_in_time(self, candidate: Candidate) -> bool:
        return candidate.last_departure <= self.config.close + self.max_overrun

    def stations_enough(self, stations: int) -> bool:
        candidate = self.evaluate(stations)
        return candidate.p95_wait_minutes <= self.max_p95_wait and self.day_ends_in_time(candidate)

    def seats_enough(self, stations: int, seats: int) -> bool:
        candidate = self.evaluate(stations, seats)
        wait = candidate.seat_p95_wait_minutes or 0.0
        return wait <= self.max_seat_wait and self.day_ends_in_time(candidate)


def _with_seats(stage: Stage, seats: int) -> Stage:
    return replace(stage, schedule=((0.0, seats),))


def _first_true(test: Any, low: int, high: int) -> int | None:
    """Smallest ``n`` in [low, high] with ``test(n)``, for a monotone test; ``None`` if none."""
    if not test(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if test(middle):
            high = middle
        else:
            low = middle + 1
    return low


def scaled_to_doses(config: SimulationConfig, doses_per_day: int) -> SimulationConfig:
    """``config`` with its arrival profile scaled so that ``doses_per_day`` people are expected."""
    expected = config.expected_arrivals()
    if expected <= 0:
        raise SimulationConfigError(
            "no_arrivals", "the arrival profile brings nobody; nothing to scale", "arrivals"
        )
    factor = doses_per_day / expected
    return replace(config, arrivals=tuple(source.scaled(factor) for source in config.arrivals))


def plan_site(
    config: SimulationConfig,
    *,
    doses_per_day: int,
    max_p95_wait: float,
    max_seat_wait: float | None = None,
    max_overrun: float = 60.0,
    max_stations: int = 400,
    scale_arrivals: bool = True,
    workers: int = 1,
    curve_span: int = 3,
) -> dict[str, Any]:
    """Search the fewest stations and seats for ``doses_per_day``; see the module docstring."""
    if scale_arrivals:
        config = scaled_to_doses(config, doses_per_day)
    search = CapacitySearch(
        config,
        max_p95_wait=max_p95_wait,
        max_seat_wait=max_p95_wait if max_seat_wait is None else max_seat_wait,
        max_overrun=max_overrun,
        workers=workers,
    )
    vaccination = config.stage(VACCINATION_STAGE)
    assert vaccination is not None
    # No fewer stations than the work divided by the opening hours: below that the queue
    # can only grow all day. Search upwards from there by doubling, then bisect.
    work = config.expected_arrivals() * vaccination.service.mean
    minutes_open = max(config.close - config.open, 1.0)
    low = max(1, min(max_stations, math.floor(work / minutes_open)))
    while low > 1 and search.stations_enough(low):
        low -= 1
    high = low
    while high < max_stations and not search.stations_enough(high):
        low = high + 1
        high = min(max_stations, high * 2)
    stations = _first_true(search.stations_enough, low, high)

    seats = None
    if stations is not None and search.observation is not None:
        peak = search.evaluate(stations).peak_observation_occupancy or 1
        seats = _first_true(lambda n: search.seats_enough(stations, n), 1, max(1, peak))

    centre = stations if stations is not None else high
    curve = [
        search.evaluate(n).as_dict()
        for n in range(max(1, centre - curve_span), min(max_stations, centre + curve_span) + 1)
    ]
    final = search.evaluate(stations, seats).as_dict() if stations is not None else None
    # A stage other than vaccination that queues past the limit caps the site whatever the
    # number of stations; name it rather than let the stations take the blame.
    other_waits = (
        search.evaluate(stations, seats) if stations is not None else search.evaluate(high)
    ).other_p95_waits
    bottlenecks = sorted(name for name, wait in other_waits.items() if wait > max_p95_wait)
    return {
        "doses_per_day": doses_per_day,
        "max_p95_wait_minutes": max_p95_wait,
        "max_seat_wait_minutes": search.max_seat_wait,
        "max_overrun_minutes": max_overrun,
        "expected_arrivals": round(config.expected_arrivals(), 1),
        "replications": config.replications,
        "stations": stations,
        "seats": seats,
        "staff": _staff(config, stations, seats) if stations is not None else None,
        "result": final,
        "curve": curve,
        "other_stages_over_limit": bottlenecks,
        "found": stations is not None,
    }


def _staff(config: SimulationConfig, stations: int, seats: int | None) -> int:
    total = 0
    for stage in config.stages:
        if stage.name == VACCINATION_STAGE:
            stage = stage.with_servers(stations)
        elif stage.is_observation and seats is not None:
            stage = _with_seats(stage, seats)
        total += stage.staff()
    return total
