"""Benchmark results carry the day they were measured and the machine they ran on."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import _common  # noqa: E402


def test_results_are_dated_by_the_clock_not_by_a_constant(monkeypatch):
    monkeypatch.setattr(_common, "machine", lambda: {
        "nproc": "2", "cpu": "Test CPU", "memory": "1.0 GiB", "python": "3.11.7", "sqlite": "3.40.1",
        "postgresql": "17.0",
    })

    class Tomorrow(dt.date):
        @classmethod
        def today(cls):
            return dt.date(2031, 2, 3)

    assert _common.machine_lines()[0] == f"- Date: {dt.date.today().isoformat()}"
    monkeypatch.setattr(_common, "dt", SimpleNamespace(date=Tomorrow))
    assert _common.machine_lines() == [
        "- Date: 2031-02-03",
        "- Machine: `nproc` = 2, CPU model: Test CPU, memory 1.0 GiB",
        "- Python 3.11.7, SQLite 3.40.1, PostgreSQL 17.0",
    ]


def test_the_machine_is_read_from_the_system():
    facts = _common.machine()
    assert facts["nproc"] == str(__import__("os").cpu_count())
    assert facts["python"] == sys.version.split()[0]
