"""Running replications, in this process or spread over worker processes.

Each replication seeds its own generator from ``(seed, replication)`` and results are put
back in replication order, so the output is the same byte for byte whatever the number
of workers.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from .config import SimulationConfig
from .engine import SiteDay
from .results import aggregate, replication_figures


def run_replication(config: SimulationConfig, replication: int) -> dict[str, Any]:
    """The figures of replication number ``replication`` (0-based) of ``config``."""
    trace = SiteDay(config, replication).run()
    return replication_figures(config, trace, replication)


def _run_chunk(config: SimulationConfig, replications: list[int]) -> list[dict[str, Any]]:
    return [run_replication(config, r) for r in replications]


def run_replications(config: SimulationConfig, workers: int = 1) -> list[dict[str, Any]]:
    """Every replication's figures, in replication order.

    ``workers`` > 1 runs them in that many processes (0 means one per CPU). Replications
    are dealt out in contiguous chunks, one batch per worker, so a worker pays for
    pickling the config once rather than once per replication.
    """
    count = config.replications
    if workers == 0:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, count))
    if workers == 1:
        return _run_chunk(config, list(range(count)))
    chunks = [list(range(count))[i::workers] for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        parts = list(pool.map(_run_chunk, [config] * workers, chunks))
    by_index = {figures["replication"]: figures for part in parts for figures in part}
    return [by_index[r] for r in range(count)]


def simulate(config: SimulationConfig, workers: int = 1) -> dict[str, Any]:
    """The full result of ``config``: summaries with 95 % intervals and every replication."""
    return aggregate(config, run_replications(config, workers))
