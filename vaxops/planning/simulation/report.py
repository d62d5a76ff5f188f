"""Readable text tables of a simulation result and of a capacity search."""

from __future__ import annotations

from typing import Any

from .timefmt import format_time


def _num(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{decimals}f}"


def _figure(figure: dict[str, Any], decimals: int = 1, clock: bool = False) -> str:
    """``mean ± half-width`` of a ``{"mean", "ci95"}`` figure."""
    mean = figure.get("mean")
    if mean is None:
        return "-"
    text = format_time(mean) if clock else _num(mean, decimals)
    interval = figure.get("ci95")
    if interval:
        half = (interval[1] - interval[0]) / 2
        text += f" ± {_num(half, decimals)}" + (" min" if clock else "")
    return text


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    ]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return lines


def simulation_text(result: dict[str, Any], timeline_step: float = 30.0) -> str:
    """The result of ``simulate`` as tables: site figures, stages, queues over the day."""
    lines = []
    title = result.get("name") or "site-flow simulation"
    lines.append(f"{title}")
    lines.append(
        f"{result['replications']} replications, seed {result['seed']}, open {format_time(result['open'])}, "
        f"close {format_time(result['close'])}; means ± 95 % confidence half-width"
    )
    lines.append("")
    tis = result["time_in_system_minutes"]
    site_rows = [
        ["admitted", _figure(result["admitted"])],
        ["turned away at closing", _figure(result["turned_away"])],
        ["completed", _figure(result["completed"])],
        ["throughput per hour", _figure(result["throughput_per_hour"])],
        ["time in system, mean (min)", _figure(tis["mean"])],
        ["time in system, p50 (min)", _figure(tis["p50"])],
        ["time in system, p95 (min)", _figure(tis["p95"])],
        ["peak observation occupancy", _figure(result["peak_observation_occupancy"])],
        ["last queue clears at", _figure(result["queue_clears_at"], clock=True)],
        ["last person leaves at", _figure(result["last_departure"], clock=True)],
        ["staff (at peak)", _num(result["staff"], 0)],
    ]
    for clock, figure in result["completed_by"].items():
        site_rows.append([f"completed by {clock}", _figure(figure)])
    lines += _table(["site", "value"], site_rows)
    lines.append("")
    stage_rows = []
    for name, stage in result["stages"].items():
        stage_rows.append(
            [
                name,
                str(stage["servers"]),
                _figure(stage["mean_wait_minutes"]),
                _figure(stage["p95_wait_minutes"]),
                _figure(stage["max_queue"], 0),
                _figure(stage["utilisation"], 2),
                _figure(stage["peak_occupancy"], 0),
                _figure(stage["queue_clears_at"], clock=True),
            ]
        )
    lines += _table(
        [
            "stage",
            "servers",
            "mean wait (min)",
            "p95 wait (min)",
            "max queue",
            "utilisation",
            "peak busy",
            "queue clears",
        ],
        stage_rows,
    )
    timeline = result.get("timeline")
    if timeline and timeline["minutes"]:
        lines.append("")
        every = max(1, round(timeline_step / timeline["interval_minutes"]))
        names = list(timeline["mean_queue"])
        rows = []
        for i in range(0, len(timeline["minutes"]), every):
            rows.append([timeline["clock"][i], *(_num(timeline["mean_queue"][n][i], 1) for n in names)])
        lines.append(f"mean queue length every {timeline['interval_minutes'] * every:g} minutes")
        lines += _table(["time", *names], rows)
    return "\n".join(lines) + "\n"


def plan_text(plan: dict[str, Any]) -> str:
    """The capacity search as text: the answer, then the stations curve."""
    lines = [
        f"target {plan['doses_per_day']:,} doses a day (arrival profile scaled to {plan['expected_arrivals']:,.0f} "
        f"people), p95 wait <= {plan['max_p95_wait_minutes']:g} min at vaccination, "
        f"<= {plan['max_seat_wait_minutes']:g} min for a seat, last person out by closing + "
        f"{plan['max_overrun_minutes']:g} min; {plan['replications']} replications per layout",
        "",
    ]
    if plan["found"]:
        result = plan["result"]
        lines.append(f"vaccination stations: {plan['stations']}")
        if plan["seats"] is not None:
            lines.append(f"observation seats:    {plan['seats']}")
        lines.append(f"staff (at peak):      {plan['staff']}")
        lines.append(
            f"completed {result['completed']:,.0f}, p95 wait at vaccination {result['p95_wait_minutes']:.1f} min, "
            f"last person leaves {format_time(result['last_departure'])}"
        )
    else:
        lines.append("no number of stations up to the search limit meets the target")
    if plan["other_stages_over_limit"]:
        lines.append(
            "warning: p95 wait over the limit at "
            + ", ".join(plan["other_stages_over_limit"])
            + " (add servers there; vaccination stations cannot fix it)"
        )
    lines.append("")
    rows = [
        [
            str(c["stations"]),
            _num(c["completed"], 0),
            _num(c["throughput_per_hour"], 1),
            _num(c["mean_wait_minutes"], 1),
            _num(c["p95_wait_minutes"], 1),
            _num(c["utilisation"], 2),
            format_time(c["last_departure"]),
            "yes" if c["stations"] == plan["stations"] else "",
        ]
        for c in plan["curve"]
    ]
    lines.append("stations curve (ample observation seats)")
    lines += _table(
        ["stations", "completed", "per hour", "mean wait", "p95 wait", "utilisation", "last out", "chosen"],
        rows,
    )
    return "\n".join(lines) + "\n"
