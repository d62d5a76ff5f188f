"""The parts of the daily report (日报) that other apps contribute.

An app registers a section from its ``AppConfig.ready()``::

    from vaxops.reports.sections import Section, register
    register("outreach", 70, outreach_section)

``fn(ctx)`` gets a ``ReportContext`` and returns a ``Section`` (or ``None`` when it has nothing
for that division and day). It reads only, and only what ``ctx`` bounds: the division's subtree,
entries recorded up to ``ctx.cutoff``. Sections are laid out by ``order`` (the report's own
sections use 10–50; contributed ones 60 and up), one sheet each in the xlsx.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ReportContext:
    """What a section is asked for: ``division`` (a ``regions.Division``), the report ``day``,
    ``start`` (the day's 00:00) and ``cutoff`` (the day at the cut-off hour), both aware in the
    campaign's time zone; ``user`` is who asked (sections read through the area-scoping helper
    when they read per user; the report itself is per division)."""

    division: Any
    day: dt.date
    start: dt.datetime
    cutoff: dt.datetime
    user: Any = None


@dataclass
class Section:
    """One part of the report.

    ``key``: stable code (the JSON key and, in the xlsx, the sheet's identity); ``title``: the
    translated title; ``columns``: translated column headers; ``rows``: the table, numbers as
    numbers (int, float, ``None`` for "no figure"), names as text a person reads; ``figures``:
    the machine-readable figures (JSON-serialisable, the API returns them as they are);
    ``sentence``: an optional clause for the report sentence (translated).
    """

    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]]
    figures: dict[str, Any] = field(default_factory=dict)
    sentence: str = ""


_SECTIONS: dict[str, tuple[int, Callable[[ReportContext], Section | None]]] = {}


def register(key: str, order: int, fn: Callable[[ReportContext], Section | None]) -> None:
    """Add (or replace, by ``key``) a contributed section."""
    _SECTIONS[key] = (order, fn)


def contributed(ctx: ReportContext) -> list[Section]:
    """The registered sections for ``ctx``, in their order (those that returned ``None`` left out)."""
    out = []
    for _key, (_order, fn) in sorted(_SECTIONS.items(), key=lambda kv: (kv[1][0], kv[0])):
        section = fn(ctx)
        if section is not None:
            out.append(section)
    return out
