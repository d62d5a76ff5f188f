"""The site-flow engine: a hand-calculated pipeline, shifts, invariants, reproducibility, commands."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vaxops.planning.simulation import parse_config, run_replication, simulate
from vaxops.planning.simulation.cli import plan_site_main, simulate_main
from vaxops.planning.simulation.engine import SiteDay

PIPELINE: dict[str, Any] = {
    "arrivals": [{"kind": "crowd", "count": 4, "at": "08:00"}],
    "stages": [
        {"name": "registration", "servers": 1, "service": {"dist": "fixed", "minutes": 2}},
        {"name": "vaccination", "servers": 2, "service": {"dist": "fixed", "minutes": 3}},
        {"name": "observation", "seats": 2, "service": {"dist": "fixed", "minutes": 30}},
    ],
    "close": "09:00",
    "replications": 2,
    "seed": 1,
    "report_times": ["08:40"],
}


def test_deterministic_pipeline_matches_the_hand_calculation() -> None:
    # Four people at 08:00 (480). Registration, one desk, 2 min: 480-482, 482-484, 484-486,
    # 486-488 (waits 0, 2, 4, 6). Vaccination, two stations, 3 min: 482-485, 484-487,
    # 486-489, 488-491 (no wait). Observation, two seats, 30 min: 485-515, 487-517; the
    # third and fourth stand until a seat frees: 515-545, 517-547 (waits 26, 26).
    # Time in system 35, 37, 65, 67. The window runs 08:00 to the last departure, 547.
    figures = run_replication(parse_config(PIPELINE), 0)
    assert figures["completed"] == 4
    assert figures["time_in_system_minutes"] == {"mean": 51.0, "p50": 51.0, "p95": 66.7}
    registration, vaccination, observation = (
        figures["stages"][n] for n in ("registration", "vaccination", "observation")
    )
    assert registration["mean_wait_minutes"] == 3.0
    assert registration["p95_wait_minutes"] == pytest.approx(5.7)
    assert registration["max_queue"] == 3
    assert registration["queue_clears_at"] == 486.0
    assert registration["utilisation"] == round(8 / 67, 4)
    assert vaccination["mean_wait_minutes"] == 0.0 and vaccination["max_queue"] == 0
    assert vaccination["queue_clears_at"] is None
    assert vaccination["utilisation"] == round(12 / (2 * 67), 4)
    assert observation["mean_wait_minutes"] == 13.0
    assert observation["max_queue"] == 2
    assert observation["utilisation"] == round(120 / (2 * 67), 4)
    assert observation["mean_occupancy"] == round(120 / 67, 4)
    assert figures["peak_observation_occupancy"] == 2
    assert figures["queue_clears_at"] == 517.0
    assert figures["last_departure"] == 547.0
    assert figures["throughput_per_hour"] == round(4 / (67 / 60), 4)
    assert figures["completed_by"] == {"08:40": 2}
    timeline = figures["timeline"]
    assert timeline["minutes"][:3] == [480.0, 485.0, 490.0]
    assert timeline["queue"]["registration"][:3] == [3, 1, 0]
    assert timeline["queue"]["observation"][:9] == [0, 0, 1, 2, 2, 2, 2, 1, 0]


def test_a_deterministic_day_has_zero_width_intervals() -> None:
    result = simulate(parse_config(PIPELINE))
    assert result["completed"] == {"mean": 4.0, "ci95": [4.0, 4.0]}
    assert result["stages"]["observation"]["mean_wait_minutes"] == {"mean": 13.0, "ci95": [13.0, 13.0]}
    assert result["queue_clears_at"]["clock"] == "08:37"


def test_a_server_going_off_shift_finishes_the_person_in_front_first() -> None:
    config = parse_config(
        {
            "arrivals": [{"kind": "crowd", "count": 2, "at": 480}],
            "stages": [
                {
                    "name": "vaccination",
                    "servers": [
                        {"from": 480, "count": 1},
                        {"from": 481, "count": 0},
                        {"from": 490, "count": 1},
                    ],
                    "service": {"dist": "fixed", "minutes": 2},
                }
            ],
            "close": 600,
            "replications": 1,
        }
    )
    trace = SiteDay(config, 0).run()
    assert trace.start[0].tolist() == [480.0, 490.0]
    assert trace.departure.tolist() == [482.0, 492.0]


def test_admission_stops_at_closing_time() -> None:
    config = parse_config(
        {
            "arrivals": [
                {"kind": "crowd", "count": 5, "at": "16:00"},
                {"kind": "crowd", "count": 7, "at": "17:00"},
            ],
            "stages": [{"name": "vaccination", "servers": 1, "service": {"dist": "fixed", "minutes": 20}}],
            "close": "17:00",
            "replications": 1,
        }
    )
    figures = run_replication(config, 0)
    assert (figures["admitted"], figures["turned_away"], figures["completed"]) == (5, 7, 5)
    # Everyone inside is finished: the last of the five leaves at 16:00 + 5 × 20 min.
    assert figures["last_departure"] == 17 * 60 + 40


def test_appointments_respect_no_shows_on_average() -> None:
    config = parse_config(
        {
            "arrivals": [
                {
                    "kind": "appointments",
                    "per_slot": 40,
                    "slot_minutes": 30,
                    "from": "08:00",
                    "until": "12:00",
                    "no_show": 0.25,
                    "punctuality_sd_minutes": 5,
                }
            ],
            "stages": [{"name": "vaccination", "servers": 10, "service": {"dist": "exponential", "mean": 2}}],
            "close": "13:00",
            "replications": 20,
            "seed": 3,
            "timeline_minutes": 0,
        }
    )
    admitted = [run_replication(config, r)["admitted"] for r in range(20)]
    assert np.mean(admitted) == pytest.approx(8 * 40 * 0.75, rel=0.03)


# ---- invariants over random small sites -------------------------------------------------

_dists = st.sampled_from(
    [
        {"dist": "fixed", "minutes": 0},
        {"dist": "fixed", "minutes": 2},
        {"dist": "exponential", "mean": 3},
        {"dist": "lognormal", "mean": 2, "sd": 1},
        {"dist": "triangular", "low": 0.5, "mode": 1, "high": 4},
        {"dist": "empirical", "values": [0.5, 1, 1, 6]},
    ]
)
_servers = st.one_of(
    st.integers(1, 4),
    st.lists(st.integers(0, 4), min_size=1, max_size=4).map(
        lambda counts: [{"from": 420 + 60 * i, "count": c} for i, c in enumerate([*counts, 2])]
    ),
)
_arrivals = st.lists(
    st.one_of(
        st.builds(
            lambda n, at: {"kind": "crowd", "count": n, "at": at}, st.integers(0, 40), st.integers(400, 700)
        ),
        st.builds(
            lambda r, a: {"kind": "poisson", "rate_per_hour": r, "from": a, "until": a + 120},
            st.integers(0, 60),
            st.integers(400, 600),
        ),
        st.builds(
            lambda n, sd: {
                "kind": "appointments",
                "per_slot": n,
                "slot_minutes": 20,
                "from": 480,
                "until": 600,
                "no_show": 0.2,
                "punctuality_sd_minutes": sd,
            },
            st.integers(0, 6),
            st.sampled_from([0, 10]),
        ),
    ),
    min_size=1,
    max_size=3,
)
_sites = st.builds(
    lambda arrivals, stages, seed: {
        "arrivals": arrivals,
        "stages": [
            {"name": f"s{i}", "servers": servers, "service": dist} for i, (servers, dist) in enumerate(stages)
        ],
        "close": 660,
        "replications": 1,
        "seed": seed,
        "timeline_minutes": 15,
    },
    _arrivals,
    st.lists(st.tuples(_servers, _dists), min_size=1, max_size=3),
    st.integers(0, 2**32),
)


@settings(max_examples=60, deadline=None)
@given(_sites, st.floats(300, 900))
def test_people_are_conserved_at_any_moment(site: dict[str, Any], until: float) -> None:
    config = parse_config(site)
    day = SiteDay(config, 0)
    trace = day.run(until=until)
    arrived = int((trace.arrival <= until).sum())
    departed = int((~np.isnan(trace.departure)).sum())
    assert departed + sum(trace.queue_now) + sum(trace.busy_now) == arrived


@settings(max_examples=60, deadline=None)
@given(_sites)
def test_a_finished_day_serves_everyone_in_order_and_on_time(site: dict[str, Any]) -> None:
    config = parse_config(site)
    trace = SiteDay(config, 0).run()
    assert (~np.isnan(trace.departure)).sum() == trace.admitted
    assert (trace.arrival < config.close).all()
    assert (trace.departure >= trace.arrival).all()
    waits = trace.start - trace.enter
    assert (waits >= 0).all()
    assert np.allclose(trace.enter[0], trace.arrival)
    for k in range(1, len(config.stages)):
        assert np.allclose(trace.enter[k], trace.start[k - 1] + trace.service[k - 1])
    for k, stage in enumerate(config.stages):
        # Nobody starts unless a server is on duty at that moment (one going off shift
        # finishes their person first, so later starts, not earlier ones, are held back).
        if trace.admitted == 0 or trace.service[k].min() == 0:
            continue  # zero-length services start and end at one instant, any number of times
        starts = trace.start[k]
        ends = starts + trace.service[k]
        for t in np.unique(starts):
            in_service = int(((starts <= t) & (ends > t)).sum())
            started_now = int((starts == t).sum())
            assert started_now <= stage.capacity_at(t)
            assert in_service <= max(stage.capacity_at(t), in_service - started_now)
    figures = run_replication(config, 0)
    assert figures["completed"] + figures["still_inside"] == figures["admitted"]
    for stage in figures["stages"].values():
        assert stage["mean_wait_minutes"] is None or stage["mean_wait_minutes"] >= 0


# ---- reproducibility --------------------------------------------------------------------


def _small_day(seed: int) -> Any:
    return parse_config(
        {
            "arrivals": [
                {"kind": "poisson", "rate_per_hour": 90, "from": "08:00", "until": "12:00"},
                {"kind": "crowd", "count": 60, "at": "08:00"},
            ],
            "stages": [
                {
                    "name": "registration",
                    "servers": 2,
                    "service": {"dist": "lognormal", "mean": 1.2, "sd": 0.4},
                },
                {
                    "name": "vaccination",
                    "servers": 3,
                    "service": {"dist": "triangular", "low": 1, "mode": 1.5, "high": 3},
                },
                {"name": "observation", "seats": 40},
            ],
            "close": "12:00",
            "replications": 4,
            "seed": seed,
        }
    )


def test_the_same_seed_gives_the_same_bytes() -> None:
    first = json.dumps(simulate(_small_day(7)))
    assert json.dumps(simulate(_small_day(7))) == first
    assert json.dumps(simulate(_small_day(8))) != first


def test_the_output_does_not_depend_on_the_number_of_workers() -> None:
    assert json.dumps(simulate(_small_day(7), workers=2)) == json.dumps(simulate(_small_day(7), workers=1))


def test_a_replication_is_the_same_alone_or_among_others() -> None:
    config = _small_day(7)
    assert run_replication(config, 3) == simulate(config)["per_replication"][3]


def test_the_global_random_state_is_left_alone() -> None:
    import random

    random.seed(5)
    np.random.seed(5)
    expected = (random.random(), np.random.random())
    random.seed(5)
    np.random.seed(5)
    simulate(_small_day(7))
    assert (random.random(), np.random.random()) == expected


# ---- commands ---------------------------------------------------------------------------


def _write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / "site.json"
    path.write_text(json.dumps(data))
    return str(path)


def test_simulate_prints_the_full_result_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate_main([_write(tmp_path, PIPELINE), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in (
        "completed",
        "throughput_per_hour",
        "time_in_system_minutes",
        "queue_clears_at",
        "timeline",
        "per_replication",
    ):
        assert key in result
    stage = result["stages"]["vaccination"]
    for key in ("mean_wait_minutes", "p95_wait_minutes", "utilisation", "max_queue"):
        assert set(stage[key]) == {"mean", "ci95"}
    assert set(result["time_in_system_minutes"]) == {"mean", "p50", "p95"}


def test_simulate_prints_a_table_by_default(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert simulate_main([_write(tmp_path, PIPELINE)]) == 0
    out = capsys.readouterr().out
    assert "registration" in out and "throughput per hour" in out and "completed by 08:40" in out


def test_a_bad_config_exits_2_with_its_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = {**PIPELINE, "stages": [{"name": "v", "servers": 1, "service": {"dist": "weibull"}}]}
    assert simulate_main([_write(tmp_path, bad)]) == 2
    err = capsys.readouterr().err
    assert "unknown_distribution" in err and "stages[0].service.dist" in err
    assert simulate_main([str(tmp_path / "missing.json")]) == 2
    assert "file_not_found" in capsys.readouterr().err


def test_plan_site_finds_stations_and_seats(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = {
        "arrivals": [{"kind": "poisson", "rate_per_hour": 60, "from": "08:00", "until": "12:00"}],
        "stages": [
            {"name": "vaccination", "servers": 1, "service": {"dist": "fixed", "minutes": 4}},
            {"name": "observation", "seats": 10},
        ],
        "close": "12:00",
        "replications": 3,
        "seed": 2,
    }
    args = [_write(tmp_path, site), "--doses-per-day", "480", "--max-p95-wait", "10", "--json"]
    assert plan_site_main(args) == 0
    plan = json.loads(capsys.readouterr().out)
    # 480 people in 4 hours at 4 min each is 8 stations' worth of work: 8 is a hard floor.
    assert plan["stations"] >= 8
    assert plan["result"]["p95_wait_minutes"] <= 10
    below = [c for c in plan["curve"] if c["stations"] == plan["stations"] - 1]
    assert below and below[0]["p95_wait_minutes"] > 10
    # Little's law bounds the seats: 120 arrivals an hour × 30 min = 60 seated on average.
    assert 40 <= plan["seats"] <= 120
    assert not math.isnan(plan["result"]["completed"])
