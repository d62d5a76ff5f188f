"""Figures of a replication, and their means with 95 % confidence intervals over replications.

Statistics on people (waits, time in system, completed) count only those who arrived at or
after ``warmup_minutes``; statistics on time (utilisation, occupancy, throughput, queue
length) use the window from ``max(open, warmup)`` to the later of closing time and the last
departure. Confidence intervals use Student's t over the replication values, the standard
method for independent replications.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .config import SimulationConfig, Stage
from .engine import ReplicationTrace
from .timefmt import format_time

Figure = dict[str, Any]

#: Decimals kept in results: enough for any planning decision, and stable output bytes.
DECIMALS = 4


def _r(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(float(value), DECIMALS)


def _percentile(values: np.ndarray, q: float) -> float | None:
    return float(np.percentile(values, q)) if len(values) else None


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def capacity_integral(stage: Stage, start: float, end: float) -> float:
    """Server-minutes on duty at ``stage`` between ``start`` and ``end``."""
    total = 0.0
    steps = list(stage.schedule)
    for i, (step_start, count) in enumerate(steps):
        step_end = steps[i + 1][0] if i + 1 < len(steps) else math.inf
        overlap = min(step_end, end) - max(step_start, start)
        if overlap > 0:
            total += count * overlap
    return total


def _queue_lengths(enter: np.ndarray, start: np.ndarray, times: np.ndarray) -> np.ndarray:
    """People waiting at each time: entered the stage by then and not yet started service."""
    entered = np.sort(enter[~np.isnan(enter)])
    started = np.sort(start[~np.isnan(start)])
    return np.searchsorted(entered, times, side="right") - np.searchsorted(started, times, side="right")


def replication_figures(
    config: SimulationConfig, trace: ReplicationTrace, replication: int
) -> dict[str, Any]:
    """The figures of one replication (plain numbers, JSON-ready)."""
    counted = trace.arrival >= config.warmup_minutes
    done = counted & ~np.isnan(trace.departure)
    w0 = max(config.open, config.warmup_minutes)
    finished = trace.departure[~np.isnan(trace.departure)]
    last_departure = float(finished.max()) if len(finished) else None
    if trace.stopped_at is not None:
        w1 = trace.stopped_at
    else:
        w1 = max(config.close, last_departure if last_departure is not None else config.close)
    hours = (w1 - w0) / 60.0
    completed = int(done.sum())
    in_system = (trace.departure - trace.arrival)[done]

    stages: dict[str, Any] = {}
    clears: list[float] = []
    for k, stage in enumerate(config.stages):
        entered = counted & ~np.isnan(trace.start[k])
        waits = (trace.start[k] - trace.enter[k])[entered]
        begin = trace.start[k]
        served = ~np.isnan(begin)
        end = np.minimum(begin[served] + trace.service[k][served], w1)
        busy = float(np.clip(end - np.maximum(begin[served], w0), 0.0, None).sum())
        on_duty = capacity_integral(stage, w0, w1)
        cleared = trace.queue_cleared_at[k]
        if cleared is not None:
            clears.append(cleared)
        stages[stage.name] = {
            "mean_wait_minutes": _r(_mean(waits)),
            "p95_wait_minutes": _r(_percentile(waits, 95)),
            "max_queue": trace.max_queue[k],
            "utilisation": _r(busy / on_duty) if on_duty > 0 else None,
            "mean_occupancy": _r(busy / (w1 - w0)) if w1 > w0 else None,
            "peak_occupancy": trace.peak_busy[k],
            "queue_clears_at": _r(cleared),
        }

    figures: dict[str, Any] = {
        "replication": replication,
        "admitted": trace.admitted,
        "turned_away": trace.turned_away,
        "completed": completed,
        "still_inside": int(trace.admitted - (~np.isnan(trace.departure)).sum()),
        "throughput_per_hour": _r(completed / hours) if hours > 0 else None,
        "time_in_system_minutes": {
            "mean": _r(_mean(in_system)),
            "p50": _r(_percentile(in_system, 50)),
            "p95": _r(_percentile(in_system, 95)),
        },
        "stages": stages,
        "peak_observation_occupancy": next(
            (trace.peak_busy[k] for k, s in enumerate(config.stages) if s.is_observation), None
        ),
        "queue_clears_at": _r(max(clears)) if clears else None,
        "last_departure": _r(last_departure),
        "completed_by": {
            format_time(t): int((trace.departure[counted] <= t).sum()) for t in config.report_times
        },
    }
    if config.timeline_minutes > 0:
        times = w0 + config.timeline_minutes * np.arange(int((w1 - w0) // config.timeline_minutes) + 1)
        figures["timeline"] = {
            "minutes": [_r(t) for t in times],
            "queue": {
                stage.name: _queue_lengths(trace.enter[k], trace.start[k], times).tolist()
                for k, stage in enumerate(config.stages)
            },
        }
    return figures


def _t975(df: int) -> float:
    # scipy.special is a light import next to scipy.stats, and the command should start fast.
    from scipy.special import stdtrit

    return float(stdtrit(df, 0.975))


def summarise(values: list[float | None]) -> Figure:
    """``{"mean", "ci95"}`` over replications; replications without a value are left out.

    The interval is ``None`` with fewer than two values (no spread to estimate).
    """
    data = np.array([v for v in values if v is not None], dtype=float)
    if len(data) == 0:
        return {"mean": None, "ci95": None}
    mean = float(data.mean())
    if len(data) < 2:
        return {"mean": _r(mean), "ci95": None}
    half = _t975(len(data) - 1) * float(data.std(ddof=1)) / math.sqrt(len(data))
    return {"mean": _r(mean), "ci95": [_r(mean - half), _r(mean + half)]}


def aggregate(config: SimulationConfig, per_replication: list[dict[str, Any]]) -> dict[str, Any]:
    """The result of a run: summaries over replications, then every replication's figures."""

    def over(*path: str) -> Figure:
        values = []
        for figures in per_replication:
            value: Any = figures
            for key in path:
                value = value[key]
            values.append(value)
        return summarise(values)

    clears = over("queue_clears_at")
    clears["clock"] = format_time(clears["mean"])
    clears["replications_with_queue"] = sum(f["queue_clears_at"] is not None for f in per_replication)
    result: dict[str, Any] = {
        "name": config.name,
        "replications": len(per_replication),
        "seed": config.seed,
        "open": config.open,
        "close": config.close,
        "warmup_minutes": config.warmup_minutes,
        "admitted": over("admitted"),
        "turned_away": over("turned_away"),
        "completed": over("completed"),
        "throughput_per_hour": over("throughput_per_hour"),
        "time_in_system_minutes": {q: over("time_in_system_minutes", q) for q in ("mean", "p50", "p95")},
        "stages": {
            stage.name: {
                "servers": stage.peak_servers,
                "staff": stage.staff(),
                **{
                    key: over("stages", stage.name, key)
                    for key in (
                        "mean_wait_minutes",
                        "p95_wait_minutes",
                        "max_queue",
                        "utilisation",
                        "mean_occupancy",
                        "peak_occupancy",
                        "queue_clears_at",
                    )
                },
            }
            for stage in config.stages
        },
        "staff": sum(stage.staff() for stage in config.stages),
        "peak_observation_occupancy": over("peak_observation_occupancy"),
        "queue_clears_at": clears,
        "last_departure": over("last_departure"),
        "completed_by": {clock: over("completed_by", clock) for clock in per_replication[0]["completed_by"]},
    }
    if config.timeline_minutes > 0:
        longest = max(per_replication, key=lambda f: len(f["timeline"]["minutes"]))["timeline"]["minutes"]
        queues: dict[str, list[float | None]] = {}
        for stage in config.stages:
            padded = np.zeros((len(per_replication), len(longest)))
            for i, figures in enumerate(per_replication):
                row = figures["timeline"]["queue"][stage.name]
                padded[i, : len(row)] = row
            queues[stage.name] = [_r(v) for v in padded.mean(axis=0)]
        result["timeline"] = {
            "interval_minutes": config.timeline_minutes,
            "minutes": longest,
            "clock": [format_time(t) for t in longest],
            "mean_queue": queues,
        }
    result["per_replication"] = per_replication
    return result
