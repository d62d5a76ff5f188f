"""The simulation config: parsing and validation of the JSON contract.

The field names are a contract shared with the scenarios, the docs and the web pages
(``docs/simulation.md``); fields may be added, never renamed. Every error is a
:class:`SimulationConfigError` naming the field.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .arrivals import ArrivalSource, parse_arrival
from .distributions import Fixed, ServiceTime, parse_distribution
from .errors import SimulationConfigError
from .timefmt import parse_time

#: The observation stay when a seats stage gives no service distribution.
DEFAULT_OBSERVATION_MINUTES = 30.0

#: Keys that never affect a run: free text for the people who keep the scenario.
_COMMENT_KEYS = {"name", "description", "notes", "source"}

_TOP_FIELDS = {
    "arrivals",
    "stages",
    "close",
    "open",
    "warmup_minutes",
    "replications",
    "seed",
    "timeline_minutes",
    "report_times",
} | _COMMENT_KEYS
_STAGE_FIELDS = {"name", "servers", "seats", "service", "staff_per_server", "staff_fixed"} | _COMMENT_KEYS


@dataclass(frozen=True)
class Stage:
    """One step of the site in series (registration, screening, vaccination, observation).

    ``schedule`` is the number of servers (desks, stations, seats) as ``(from, count)``
    steps; before the first step there are none. A constant count is one step at 0.
    """

    name: str
    schedule: tuple[tuple[float, int], ...]
    service: ServiceTime
    is_observation: bool = False
    staff_per_server: float = 1.0
    staff_fixed: float = 0.0

    @property
    def peak_servers(self) -> int:
        return max(count for _, count in self.schedule)

    def capacity_at(self, minute: float) -> int:
        """Servers on duty at ``minute``."""
        current = 0
        for start, count in self.schedule:
            if start > minute:
                break
            current = count
        return current

    def with_servers(self, count: int) -> Stage:
        """This stage with ``count`` servers at its peak, keeping the shape of a schedule.

        A schedule's steps are scaled in proportion (a lunch break at half strength stays
        at half strength), never below one where the original had any.
        """
        peak = self.peak_servers
        steps = []
        for start, old in self.schedule:
            new = count if old == peak else round(old * count / peak)
            steps.append((start, max(new, 1) if old > 0 else 0))
        return replace(self, schedule=tuple(steps))

    def staff(self) -> int:
        """Staff the stage needs at its busiest: servers at peak times staff per server (a
        fraction such as one nurse per 40 seats rounds up), plus the fixed staff."""
        return math.ceil(self.peak_servers * self.staff_per_server - 1e-9) + math.ceil(
            self.staff_fixed - 1e-9
        )


@dataclass(frozen=True)
class SimulationConfig:
    """A validated site model: who comes, the stages, the day, and how many replications."""

    arrivals: tuple[ArrivalSource, ...]
    stages: tuple[Stage, ...]
    close: float
    open: float
    warmup_minutes: float = 0.0
    replications: int = 30
    seed: int = 0
    timeline_minutes: float = 5.0
    report_times: tuple[float, ...] = ()
    name: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def stage(self, name: str) -> Stage | None:
        return next((s for s in self.stages if s.name == name), None)

    def observation_stage(self) -> Stage | None:
        return next((s for s in self.stages if s.is_observation), None)

    def with_stage(self, stage: Stage) -> SimulationConfig:
        return replace(self, stages=tuple(stage if s.name == stage.name else s for s in self.stages))

    def expected_arrivals(self) -> float:
        return sum(source.expected_count() for source in self.arrivals)


def _count(value: Any, field: str, *, positive: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SimulationConfigError("bad_type", f"must be a whole number, got {value!r}", field)
    if value < 0 or (positive and value == 0):
        raise SimulationConfigError(
            "negative_value", f"must be {'at least 1' if positive else 'zero or more'}, got {value!r}", field
        )
    return value


def _minutes(value: Any, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise SimulationConfigError("bad_type", f"must be a number of minutes, got {value!r}", field)
    if value < 0:
        raise SimulationConfigError("negative_value", f"must not be negative, got {value!r}", field)
    return float(value)


def _schedule(value: Any, field: str) -> tuple[tuple[float, int], ...]:
    if isinstance(value, list):
        if not value:
            raise SimulationConfigError(
                "bad_schedule", 'must list at least one {"from", "count"} step', field
            )
        steps: list[tuple[float, int]] = []
        for i, step in enumerate(value):
            where = f"{field}[{i}]"
            if not isinstance(step, dict) or "from" not in step or "count" not in step:
                raise SimulationConfigError(
                    "bad_schedule", 'must be an object {"from": time, "count": n}', where
                )
            start = parse_time(step["from"], f"{where}.from")
            if steps and start <= steps[-1][0]:
                raise SimulationConfigError(
                    "bad_schedule", "steps must be in increasing time order", f"{where}.from"
                )
            steps.append((start, _count(step["count"], f"{where}.count")))
        # Everyone admitted is served, so a stage may not end the day with nobody on duty.
        if steps[-1][1] == 0:
            raise SimulationConfigError(
                "bad_schedule",
                "the last step must have at least one server (everyone admitted is served)",
                field,
            )
        return tuple(steps)
    return ((0.0, _count(value, field, positive=True)),)


def _parse_stage(spec: Any, field: str) -> Stage:
    if not isinstance(spec, dict):
        raise SimulationConfigError("bad_type", "must be an object", field)
    extra = sorted(set(spec) - _STAGE_FIELDS)
    if extra:
        raise SimulationConfigError("unknown_field", f"unknown field {extra[0]!r}", field)
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SimulationConfigError("missing_field", "every stage needs a name", f"{field}.name")
    if "seats" in spec:
        if "servers" in spec:
            raise SimulationConfigError("bad_stage", 'give either "servers" or "seats", not both', field)
        schedule = _schedule(spec["seats"], f"{field}.seats")
        service = (
            parse_distribution(spec["service"], f"{field}.service")
            if "service" in spec
            else Fixed(DEFAULT_OBSERVATION_MINUTES)
        )
        staff_default = 0.0
        is_observation = True
    else:
        if "servers" not in spec:
            raise SimulationConfigError(
                "missing_field", 'a stage needs "servers" (or "seats")', f"{field}.servers"
            )
        if "service" not in spec:
            raise SimulationConfigError(
                "missing_field", "a stage needs a service distribution", f"{field}.service"
            )
        schedule = _schedule(spec["servers"], f"{field}.servers")
        service = parse_distribution(spec["service"], f"{field}.service")
        staff_default = 1.0
        is_observation = False
    return Stage(
        name=name,
        schedule=schedule,
        service=service,
        is_observation=is_observation,
        staff_per_server=_minutes(spec.get("staff_per_server", staff_default), f"{field}.staff_per_server"),
        staff_fixed=_minutes(spec.get("staff_fixed", 0.0), f"{field}.staff_fixed"),
    )


def parse_config(data: Any) -> SimulationConfig:
    """Validate a config object (as loaded from JSON) into a :class:`SimulationConfig`."""
    if not isinstance(data, dict):
        raise SimulationConfigError("bad_type", "the config must be a JSON object", "")
    extra = sorted(set(data) - _TOP_FIELDS)
    if extra:
        raise SimulationConfigError("unknown_field", f"unknown field {extra[0]!r}", extra[0])

    arrivals_spec = data.get("arrivals")
    if not isinstance(arrivals_spec, list) or not arrivals_spec:
        raise SimulationConfigError("no_arrivals", "must be a non-empty list of arrival sources", "arrivals")
    arrivals = tuple(parse_arrival(spec, f"arrivals[{i}]") for i, spec in enumerate(arrivals_spec))

    stages_spec = data.get("stages")
    if not isinstance(stages_spec, list) or not stages_spec:
        raise SimulationConfigError("no_stages", "must be a non-empty list of stages", "stages")
    stages = tuple(_parse_stage(spec, f"stages[{i}]") for i, spec in enumerate(stages_spec))
    names = [stage.name for stage in stages]
    for i, name in enumerate(names):
        if name in names[:i]:
            raise SimulationConfigError(
                "duplicate_stage", f"stage name {name!r} is used twice", f"stages[{i}].name"
            )

    if "close" not in data:
        raise SimulationConfigError("missing_field", "the closing time is required", "close")
    close = parse_time(data["close"], "close")
    if "open" in data:
        opening = parse_time(data["open"], "open")
    else:
        # Arrival windows after closing only bring people to be turned away.
        opening = min(close, *(_nominal_start(source) for source in arrivals))
    if close < opening:
        raise SimulationConfigError("bad_time", "must not be before the opening time", "close")

    replications = _count(data.get("replications", 30), "replications", positive=True)
    seed = data.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise SimulationConfigError("bad_type", f"must be a whole number >= 0, got {seed!r}", "seed")
    report_spec = data.get("report_times", [])
    if not isinstance(report_spec, list):
        raise SimulationConfigError("bad_type", "must be a list of times", "report_times")
    report_times = tuple(parse_time(t, f"report_times[{i}]") for i, t in enumerate(report_spec))
    name = data.get("name", "")
    return SimulationConfig(
        arrivals=arrivals,
        stages=stages,
        close=close,
        open=opening,
        warmup_minutes=_minutes(data.get("warmup_minutes", 0), "warmup_minutes"),
        replications=replications,
        seed=seed,
        timeline_minutes=_minutes(data.get("timeline_minutes", 5), "timeline_minutes"),
        report_times=report_times,
        name=name if isinstance(name, str) else "",
        raw=data,
    )


def _nominal_start(source: ArrivalSource) -> float:
    return float(getattr(source, "start", getattr(source, "at", 0.0)))


def load_config(path: str | Path) -> SimulationConfig:
    """Read and validate a JSON config file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise SimulationConfigError("file_not_found", f"cannot read {path}: {exc.strerror}", "") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SimulationConfigError("bad_json", f"{path} is not valid JSON: {exc}", "") from exc
    return parse_config(data)
