"""The AEFI reference data of ``vaxops/safety/data/*.json``: event codes, serious criteria,
outcomes, categories, clocks, cluster rules and the Brighton anaphylaxis signs.

Read once per process (``functools.cache``) and never changed while it runs: the files ship
with the code, so a new code arrives with a new release and a restart. No Django import: the
pure rules (``vaxops.safety.rules``) take their numbers from here.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DATA = Path(__file__).with_name("data")


@cache
def _load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))


def _by_code(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {row["code"]: row for row in rows}


@cache
def events() -> dict[str, dict[str, Any]]:
    """Event code -> {code, zh, en, group, window_hours, anaphylaxis?} in the file's order."""
    return _by_code(_load("events")["events"])


@cache
def serious_criteria() -> dict[str, dict[str, Any]]:
    return _by_code(_load("serious")["criteria"])


@cache
def outcomes() -> dict[str, dict[str, Any]]:
    return _by_code(_load("serious")["outcomes"])


@cache
def who_categories() -> dict[str, dict[str, Any]]:
    return _by_code(_load("serious")["who_categories"])


@cache
def cn_categories() -> dict[str, dict[str, Any]]:
    return _by_code(_load("serious")["cn_categories"])


def clocks() -> dict[str, Any]:
    return _load("clocks")


def cluster_rules() -> dict[str, Any]:
    return _load("clusters")


@cache
def brighton_signs() -> dict[str, dict[str, Any]]:
    """Sign code -> {code, system, major, zh, en}."""
    return _by_code(_load("brighton")["signs"])


@cache
def brighton_systems() -> dict[str, dict[str, Any]]:
    return _by_code(_load("brighton")["systems"])


def group_of(event_code: str) -> str:
    return events()[event_code]["group"]


def is_anaphylaxis(event_codes: list[str] | tuple[str, ...]) -> bool:
    table = events()
    return any(table.get(c, {}).get("anaphylaxis") for c in event_codes)
