"""The simulator from a live start: the people inside at ``now`` go straight to their stage, in
the order given, those in service keep their remaining time; hand-checked small cases."""

from __future__ import annotations

import numpy as np

from vaxops.planning.simulation import parse_config
from vaxops.planning.simulation.live import LiveStart, run_live

NOW = 600.0  # 10:00


def config(arrivals=None):
    return parse_config({
        "arrivals": arrivals or [{"kind": "crowd", "count": 0, "at": NOW}],
        "stages": [
            {"name": "screening", "servers": 1, "service": {"dist": "fixed", "minutes": 2}},
            {"name": "vaccination", "servers": 1, "service": {"dist": "fixed", "minutes": 3}},
            {"name": "observation", "seats": 2, "service": {"dist": "fixed", "minutes": 30}},
        ],
        "open": NOW, "close": 1020, "replications": 1, "seed": 1, "timeline_minutes": 0,
    })


def test_people_start_at_their_own_stage_with_their_remaining_time():
    # Seated with 5 minutes left; screened and waiting for the station; waiting for screening.
    start = LiveStart(now=NOW, stages=(2, 1, 0), remaining=(5.0, None, None))
    trace, figures = run_live(config(), start, 0)
    # 0: leaves at 10:05. 1: vaccinated 10:00-10:03, seated until 10:33. 2: screened 10:00-10:02,
    # waits for the station until 10:03, vaccinated until 10:06, seated (one seat free since 10:05)
    # until 10:36.
    assert np.allclose(trace.departure, [605, 633, 636])
    assert figures["queue_clears_at"] == 603


def test_arrivals_to_come_queue_behind_the_present():
    start = LiveStart(now=NOW, stages=(0, 0), remaining=(None, None))
    trace, _ = run_live(config([{"kind": "crowd", "count": 1, "at": NOW + 1}]), start, 0)
    # Screening: present 10:00-10:02, 10:02-10:04; the newcomer at 10:01 waits until 10:04.
    assert np.allclose(trace.start[0], [600, 602, 604])


def test_an_empty_start_is_the_plain_simulator():
    from vaxops.planning.simulation import run_replication

    cfg = config([{"kind": "poisson", "rate_per_hour": 30, "from": NOW, "until": 700}])
    _, figures = run_live(cfg, LiveStart(now=NOW, stages=(), remaining=()), 0)
    assert figures["completed"] == run_replication(cfg, 0)["completed"]
