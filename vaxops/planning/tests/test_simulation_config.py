"""Config parsing of the site-flow simulator: times, stages, arrivals, and clear errors."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vaxops.planning.simulation import SimulationConfigError, format_time, parse_config, parse_time
from vaxops.planning.simulation.distributions import Fixed, LogNormal, Triangular

EXAMPLE: dict[str, Any] = {
    "arrivals": [
        {"kind": "poisson", "rate_per_hour": 120, "from": "08:00", "until": "17:00"},
        {"kind": "crowd", "count": 1000, "at": "08:00"},
        {
            "kind": "appointments",
            "per_slot": 50,
            "slot_minutes": 30,
            "from": "08:00",
            "until": "16:30",
            "no_show": 0.1,
            "punctuality_sd_minutes": 10,
        },
    ],
    "stages": [
        {"name": "registration", "servers": 4, "service": {"dist": "lognormal", "mean": 1.5, "sd": 0.5}},
        {
            "name": "vaccination",
            "servers": [
                {"from": "08:00", "count": 6},
                {"from": "12:00", "count": 3},
                {"from": "13:00", "count": 6},
            ],
            "service": {"dist": "triangular", "low": 1, "mode": 1.5, "high": 3},
        },
        {"name": "observation", "seats": 300, "service": {"dist": "fixed", "minutes": 30}},
    ],
    "close": "17:00",
    "warmup_minutes": 0,
    "replications": 30,
    "seed": 42,
}


def _error(data: dict[str, Any]) -> SimulationConfigError:
    with pytest.raises(SimulationConfigError) as info:
        parse_config(data)
    return info.value


def _with(path: list[Any], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(EXAMPLE)
    target: Any = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


def test_the_documented_example_parses() -> None:
    config = parse_config(EXAMPLE)
    assert [s.name for s in config.stages] == ["registration", "vaccination", "observation"]
    assert config.close == 17 * 60
    assert config.open == 8 * 60
    assert config.stages[0].service == LogNormal(1.5, 0.5)
    assert config.stages[1].service == Triangular(1, 1.5, 3)
    assert config.stages[1].schedule == ((480.0, 6), (720.0, 3), (780.0, 6))
    assert config.stages[1].capacity_at(12 * 60 + 30) == 3
    assert config.stages[2].is_observation and config.stages[2].peak_servers == 300
    # 120/h for 9 h + 1,000 + 17 slots × 50 × 0.9
    assert config.expected_arrivals() == pytest.approx(1080 + 1000 + 765)


def test_observation_stay_is_30_minutes_by_default() -> None:
    config = parse_config(_with(["stages", 2], {"name": "observation", "seats": 100}))
    assert config.stages[2].service == Fixed(30.0)


@given(st.integers(0, 99), st.integers(0, 59))
def test_hh_mm_is_minutes_from_midnight_and_formats_back(hours: int, minutes: int) -> None:
    text = f"{hours:02d}:{minutes:02d}"
    assert parse_time(text, "t") == hours * 60 + minutes
    assert format_time(parse_time(text, "t")) == text


@given(st.floats(0, 1e7, allow_nan=False))
def test_a_number_is_taken_as_minutes(value: float) -> None:
    assert parse_time(value, "t") == value


@given(st.text(max_size=8).filter(lambda s: not __import__("re").fullmatch(r"\s*\d{1,4}:[0-5]\d\s*", s)))
def test_anything_else_is_a_bad_time(text: str) -> None:
    with pytest.raises(SimulationConfigError) as info:
        parse_time(text, "close")
    assert info.value.code == "bad_time"
    assert "close" in str(info.value)


@pytest.mark.parametrize("value", [-1, "8:60", "noon", True, None, float("nan")])
def test_bad_times_name_the_field(value: Any) -> None:
    error = _error(_with(["close"], value))
    assert (error.code, error.field) == ("bad_time", "close")


def test_unknown_distribution_is_refused_with_its_field() -> None:
    error = _error(_with(["stages", 0, "service"], {"dist": "gamma", "mean": 2}))
    assert error.code == "unknown_distribution"
    assert error.field == "stages[0].service.dist"
    assert "gamma" in error.message and "lognormal" in error.message


def test_no_stages_is_refused() -> None:
    assert _error(_with(["stages"], [])).code == "no_stages"


def test_negative_values_are_refused() -> None:
    assert _error(_with(["stages", 0, "servers"], -2)).field == "stages[0].servers"
    error = _error(_with(["arrivals", 0, "rate_per_hour"], -5))
    assert (error.code, error.field) == ("negative_value", "arrivals[0].rate_per_hour")
    assert _error(_with(["stages", 1, "service", "high"], -1)).code == "negative_value"


@pytest.mark.parametrize(
    ("path", "value", "code"),
    [
        (["arrivals", 0, "kind"], "trickle", "unknown_arrival_kind"),
        (["arrivals", 2, "no_show"], 1.5, "bad_probability"),
        (["arrivals", 0, "until"], "07:00", "bad_time"),
        (
            ["stages", 1, "service"],
            {"dist": "triangular", "low": 3, "mode": 1, "high": 4},
            "bad_distribution",
        ),
        (["stages", 1, "service"], {"dist": "empirical", "values": []}, "bad_distribution"),
        (["stages", 1, "service"], {"dist": "fixed"}, "missing_field"),
        (
            ["stages", 1, "servers"],
            [{"from": "12:00", "count": 3}, {"from": "08:00", "count": 6}],
            "bad_schedule",
        ),
        (
            ["stages", 1, "servers"],
            [{"from": "08:00", "count": 6}, {"from": "17:00", "count": 0}],
            "bad_schedule",
        ),
        (["stages", 1, "servers"], 2.5, "bad_type"),
        (["stages", 2, "name"], "registration", "duplicate_stage"),
        (["stages", 0, "desks"], 3, "unknown_field"),
        (["replications"], 0, "negative_value"),
        (["arrivals"], [], "no_arrivals"),
    ],
)
def test_bad_configs_carry_a_stable_code(path: list[Any], value: Any, code: str) -> None:
    assert _error(_with(path, value)).code == code


def test_comment_fields_are_allowed() -> None:
    data = _with(["description"], "gymnasium, day 1")
    data["stages"][0]["notes"] = "two desks by the door"
    assert parse_config(data).stages[0].name == "registration"


def test_with_servers_keeps_the_shape_of_a_schedule() -> None:
    vaccination = parse_config(EXAMPLE).stages[1]
    assert vaccination.with_servers(10).schedule == ((480.0, 10), (720.0, 5), (780.0, 10))
    assert vaccination.with_servers(1).schedule == ((480.0, 1), (720.0, 1), (780.0, 1))
