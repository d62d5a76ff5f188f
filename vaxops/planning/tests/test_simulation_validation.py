"""Validation of the site-flow simulator against queueing theory.

- M/M/1 and M/M/c: the mean wait in queue against the Erlang C formula, within 2 %, for
  utilisation from 0.5 up to 0.9, over long horizons.
- Exactness: per-person waits equal the Lindley (one server) and Kiefer-Wolfowitz (c servers,
  first come first served) recursions on the same arrival and service times.
- Little's law at the observation stage: mean occupancy = arrival rate × stay, within 2 %.

Heavy traffic is expensive to estimate: at utilisation 0.9 the waits of successive people are
strongly correlated, so the mean converges slowly. The horizons below hold the standard
error of each estimate to about a third of the 2 % tolerance (measured over 12-40 seeds,
see docs/simulation.md), so the tests pass for almost any seed, not only the one fixed here.
Each replication starts empty and drops the first ``WARMUP`` minutes, far longer than the
relaxation time of any of these queues (at most ~130 minutes).
"""

from __future__ import annotations

import heapq
import math

import numpy as np
import pytest

from vaxops.planning.simulation import parse_config, run_replications
from vaxops.planning.simulation.config import SimulationConfig
from vaxops.planning.simulation.engine import SiteDay

WARMUP = 2000.0


def erlang_c_wait(arrival_rate: float, service_rate: float, servers: int) -> float:
    """Mean wait in queue of M/M/c (Erlang C), in the time unit of the rates."""
    offered = arrival_rate / service_rate
    rho = offered / servers
    assert rho < 1
    head = sum(offered**k / math.factorial(k) for k in range(servers))
    tail = offered**servers / math.factorial(servers) / (1 - rho)
    probability_of_waiting = tail / (head + tail)
    return probability_of_waiting / (servers * service_rate - arrival_rate)


def mmc_config(
    per_minute: float, mean_service: float, servers: int, *, replications: int, minutes: float, seed: int
) -> SimulationConfig:
    return parse_config(
        {
            "arrivals": [{"kind": "poisson", "rate_per_hour": per_minute * 60, "from": 0, "until": minutes}],
            "stages": [
                {"name": "desk", "servers": servers, "service": {"dist": "exponential", "mean": mean_service}}
            ],
            "close": minutes,
            "warmup_minutes": WARMUP,
            "replications": replications,
            "seed": seed,
            "timeline_minutes": 0,
        }
    )


def simulated_mean_wait(config: SimulationConfig, workers: int = 1) -> float:
    # Equal-length replications: the mean of their means is the grand mean.
    figures = run_replications(config, workers)
    return float(np.mean([f["stages"]["desk"]["mean_wait_minutes"] for f in figures]))


def test_mm1_mean_wait_matches_theory_within_2_percent() -> None:
    # λ = 0.5/min, mean service 1 min: ρ = 0.5, Wq = ρ / (μ − λ) = 1 min. About 1 M people.
    config = mmc_config(0.5, 1.0, 1, replications=4, minutes=500_000, seed=11)
    expected = 0.5 / (1.0 - 0.5)
    assert expected == pytest.approx(erlang_c_wait(0.5, 1.0, 1))
    assert simulated_mean_wait(config) == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize(
    ("per_minute", "mean_service", "servers", "replications", "minutes"),
    [
        (0.8, 1.5, 2, 4, 550_000),  # ρ = 0.6, 1.8 M people
        (1.05, 2.0, 3, 4, 600_000),  # ρ = 0.7, 2.5 M people
        (2.7, 2.0, 6, 16, 300_000),  # ρ = 0.9, 13 M people: the costly one, on two processes
    ],
    ids=["c2-rho0.6", "c3-rho0.7", "c6-rho0.9"],
)
def test_mmc_mean_wait_matches_erlang_c_within_2_percent(
    per_minute: float, mean_service: float, servers: int, replications: int, minutes: float
) -> None:
    config = mmc_config(
        per_minute, mean_service, servers, replications=replications, minutes=minutes, seed=11
    )
    expected = erlang_c_wait(per_minute, 1 / mean_service, servers)
    # The results do not depend on the number of workers; two halve the wall time on CI.
    workers = 2 if replications > 4 else 1
    assert simulated_mean_wait(config, workers) == pytest.approx(expected, rel=0.02)


@pytest.mark.parametrize("servers", [1, 3, 6])
def test_waits_equal_the_first_come_first_served_recursion(servers: int) -> None:
    # Lindley (c = 1) / Kiefer-Wolfowitz (c > 1): each person starts at the later of their
    # arrival and the earliest moment a server is free. Exact, person by person.
    config = mmc_config(0.9 * servers / 2.0, 2.0, servers, replications=1, minutes=20_000, seed=5)
    trace = SiteDay(config, 0).run()
    free_at = [0.0] * servers
    starts = np.empty(trace.admitted)
    for i, (arrival, service) in enumerate(zip(trace.arrival, trace.service[0], strict=True)):
        starts[i] = max(arrival, heapq.heappop(free_at))
        heapq.heappush(free_at, starts[i] + service)
    assert trace.admitted > 5000
    assert np.array_equal(starts, trace.start[0])


def test_littles_law_holds_at_the_observation_stage() -> None:
    # 60 people an hour through registration and vaccination into a 30-minute observation:
    # on average 1/min × 30 min = 30 people seated. Seats are ample so nobody waits to sit.
    config = parse_config(
        {
            "arrivals": [{"kind": "poisson", "rate_per_hour": 60, "from": 0, "until": 150_000}],
            "stages": [
                {
                    "name": "registration",
                    "servers": 2,
                    "service": {"dist": "lognormal", "mean": 1.5, "sd": 0.5},
                },
                {
                    "name": "vaccination",
                    "servers": 3,
                    "service": {"dist": "triangular", "low": 1, "mode": 1.5, "high": 3},
                },
                {"name": "observation", "seats": 200},
            ],
            "close": 150_000,
            "warmup_minutes": 200,
            "replications": 1,
            "seed": 11,
            "timeline_minutes": 0,
        }
    )
    figures = run_replications(config)[0]
    assert figures["stages"]["observation"]["mean_wait_minutes"] == 0
    assert figures["stages"]["observation"]["mean_occupancy"] == pytest.approx(1.0 * 30, rel=0.02)
