"""Helpers shared by the benchmarks: Django setup per database, machine facts, results file.

The benchmarks run one process per database (Django settings are read once per process), so
the orchestrating script starts itself again with ``--role`` and a database URL; these helpers
keep that plumbing, the PostgreSQL database life cycle and the RESULTS.md section update in
one place.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
BENCH_VAR = ROOT / "var" / "bench"
RESULTS = BENCH_DIR / "RESULTS.md"
PYTHON = str(ROOT / ".venv" / "bin" / "python")
PG_ADMIN_URL = os.environ.get("VAXOPS_BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres")
# Benchmarks build and serve demo data on the demo key; their subprocesses (gunicorn, the demo
# command, the roles) inherit this from os.environ.
os.environ.setdefault("VAXOPS_DEMO", "1")


def bench_date() -> str:
    """Today's date on this machine's clock (ISO), written beside every result: a figure is
    only worth comparing with the date and the machine it was measured on."""
    return dt.date.today().isoformat()


def pg_url(dbname: str) -> str:
    """The URL of database ``dbname`` on the benchmark PostgreSQL server."""
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + dbname


def sqlite_url(name: str) -> str:
    """A URL for a fresh SQLite file under var/bench/ (an existing file and its WAL are removed)."""
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    path = BENCH_VAR / name
    for suffix in ("", "-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    return f"sqlite:///{path}"


def sqlite_path(url: str) -> str:
    """The file path of a ``sqlite:///`` URL."""
    return url.removeprefix("sqlite:///")


def is_postgres(url: str) -> bool:
    return url.startswith(("postgres://", "postgresql://"))


def pg_recreate(dbname: str) -> None:
    """Drop (if present) and create database ``dbname``."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{dbname}"')


def pg_drop(dbname: str) -> None:
    """Drop database ``dbname`` (closing any connection still open to it)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


def django_setup(url: str) -> None:
    """Point Django at ``url`` and set it up (call once per process, before any model import)."""
    os.environ["VAXOPS_DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vaxops.settings")
    os.environ.setdefault("VAXOPS_FAST_HASHER", "1")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def run_role(script: Path, role: str, url: str, args: Sequence[str] = (), timeout: float = 1800) -> dict[str, Any]:
    """Run ``script --role ROLE --url URL ARGS`` in a new process; return the JSON it prints last."""
    env = {**os.environ, "VAXOPS_DATABASE_URL": url, "VAXOPS_FAST_HASHER": "1"}
    proc = subprocess.run(
        [PYTHON, str(script), "--role", role, "--url", url, *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"{role} failed ({proc.returncode}):\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def percentile(values: Sequence[float], p: float) -> float:
    """The ``p``-th percentile (0-100) by the nearest-rank method; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def machine() -> dict[str, str]:
    """Facts about this machine and the databases, for the results file."""
    model = ""
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next((ln.split(":", 1)[1].strip() for ln in out.splitlines() if ln.startswith("Model name")), "")
    except OSError:
        pass
    mem = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, AttributeError):
        pass
    pg = ""
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://")) as conn:
            pg = conn.execute("SHOW server_version").fetchone()[0]
    except Exception as exc:  # noqa: BLE001 - reported, not fatal
        pg = f"unavailable ({exc.__class__.__name__})"
    return {
        "nproc": str(os.cpu_count()),
        "cpu": model,
        "memory": mem,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": pg,
    }


def machine_lines() -> list[str]:
    """The date (from the clock) and the machine (from the system) of a results section."""
    m = machine()
    return [
        f"- Date: {bench_date()}",
        f"- Machine: `nproc` = {m['nproc']}, CPU model: {m['cpu']}, memory {m['memory']}",
        f"- Python {m['python']}, SQLite {m['sqlite']}, PostgreSQL {m['postgresql']}",
    ]


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def update_section(title: str, body: str) -> None:
    """Replace (or append) the ``## title`` section of bench/RESULTS.md, leaving the others as they are."""
    heading = f"## {title}"
    for _attempt in range(5):
        text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        lines = text.splitlines()
        start = next((i for i, ln in enumerate(lines) if ln.strip() == heading), None)
        new = [heading, "", *body.strip("\n").splitlines(), ""]
        if start is None:
            while lines and not lines[-1].strip():
                lines.pop()
            lines += ["", *new]
        else:
            end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
            lines[start:end] = new
        tmp = RESULTS.with_suffix(".md.tmp")
        tmp.write_text("\n".join(lines).rstrip("\n") + "\n", encoding="utf-8")
        # Another benchmark may have written its section meanwhile: only replace an unchanged file.
        current = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else "# Benchmark results\n"
        if current == text:
            tmp.replace(RESULTS)
            return
        time.sleep(0.2)
    tmp.replace(RESULTS)
