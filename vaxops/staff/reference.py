"""The app's reference data (``data/*.json``): staff roles, qualification kinds and the
readiness checklist with its emergency kit.

Read once per process: they are data shipped with the code and change only with a
deployment, so the cached values are never stale while the process runs.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from vaxops.catalog.models import in_english
from vaxops.staff import readiness_rules

DATA = Path(__file__).with_name("data")


def _load(name: str) -> dict:
    return json.loads((DATA / name).read_text("utf-8"))


@cache
def roles() -> dict[str, dict]:
    """Role code -> its names, in the data's order."""
    return {r["code"]: r for r in _load("roles.json")["roles"]}


@cache
def qualification_kinds() -> dict[str, dict]:
    """Qualification kind code -> its names and whether it is held per product."""
    return {k["code"]: k for k in _load("qualification_kinds.json")["kinds"]}


@cache
def checklist() -> readiness_rules.Checklist:
    """The readiness checklist and the emergency kit."""
    return readiness_rules.load_checklist()


def name_of(entry: dict | object) -> str:
    """The name of a data entry (a dict or an object with name_zh/name_en) in the active language."""
    zh = entry["name_zh"] if isinstance(entry, dict) else entry.name_zh
    en = entry["name_en"] if isinstance(entry, dict) else entry.name_en
    return en if in_english() else zh


def role_name(code: str) -> str:
    entry = roles().get(code)
    return name_of(entry) if entry else code


def qualification_name(code: str) -> str:
    entry = qualification_kinds().get(code)
    return name_of(entry) if entry else code


def item_name(code: str) -> str:
    try:
        return name_of(checklist().item(code))
    except readiness_rules.UnknownItem:
        return code


def drug_name(code: str) -> str:
    for d in checklist().drugs:
        if d.code == code:
            return name_of(d)
    return code
