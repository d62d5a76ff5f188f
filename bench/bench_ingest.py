"""Bulk dose ingest end to end from a file, on SQLite and PostgreSQL, beside the raw write rate.

Each database run starts from a fresh database (SQLite file under var/bench/, or a PostgreSQL
database created for the run): the test world (sites, lots, a vaccinator), N residents inserted
in bulk (setup, untimed), and dose 1 recorded a month earlier for every tenth of them (through
``record_doses`` with ``now`` a month back, untimed), so a tenth of the file are second doses
that read a history. A CSV file of N dose rows is written (client_uuid, person_id, product,
lot_number, site_code, administered_at with its offset, all within the last 20 hours).

Timed: read the file with the csv module → ``DoseItem`` → ``record_doses`` in chunks (every
rule, locks, counters, audit; one transaction per chunk) → doses/s. Checked: every row created,
dose rows = N + the earlier doses, counters equal a rebuild. Then the raw reference in the same
run: the same dose rows (read back from the dose table) written into a fresh copy of the dose
table with the same indexes — ``COPY … FROM STDIN`` (PostgreSQL, the rows formatted to text by
the engine's own formatter) or ``executemany`` INSERT in one transaction (SQLite) — rows/s, and
the ratio ingest ÷ raw.

    .venv/bin/python bench/bench_ingest.py [--postgres | --db both] [--rows 200000] [--chunk 10000] [--profile]

Results go to the "Bulk dose ingest" section of bench/RESULTS.md (unless --no-write).
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import datetime as dt
import io
import json
import os
import pstats
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    BENCH_VAR,
    django_setup,
    is_postgres,
    machine_lines,
    pg_drop,
    pg_recreate,
    pg_url,
    run_role,
    sqlite_url,
    table,
    update_section,
)

SCRIPT = Path(__file__).resolve()
SECTION = "Bulk dose ingest (issue 7: one write path)"
PG_DB = "vx_doses_bench_ingest"
TARGETS = {"sqlite": 20_000, "postgres": 50_000}


def _setup_people(n: int) -> list[int]:
    from django.db import connection

    from vaxops.regions.models import Division
    from vaxops.registry.models import Person

    home = Division.objects.get(code="513301001")
    born = dt.date(1950, 1, 1)
    people = [
        Person(id_number=f"513301{(born + dt.timedelta(days=i % 18000)):%Y%m%d}{i // 18000 % 1000:03d}{i % 10}",
               name="张三", birth_date=born + dt.timedelta(days=i % 18000), sex="M", home_division=home,
               county_code="513301", priority_groups=[])
        for i in range(n)
    ]
    Person.objects.bulk_create(people, batch_size=5000)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {Person._meta.db_table} ORDER BY id")
        return [r[0] for r in cursor.fetchall()]


def _write_csv(path: Path, ids: list[int], now: dt.datetime) -> None:
    lots = {"BIBP": "B2021001", "CORONAVAC": "C2021001"}
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["client_uuid", "person_id", "product", "lot_number", "site_code", "administered_at"])
        for i, pk in enumerate(ids):
            product = "BIBP" if i % 10 == 0 or i % 3 else "CORONAVAC"  # second doses: the first's product
            at = (now - dt.timedelta(seconds=60 + (i * 7919) % 72000)).replace(microsecond=0)
            w.writerow([uuid.uuid4(), pk, product, lots[product], "KD-MASS", at.isoformat()])


def _ingest(path: Path, user, chunk: int) -> tuple[float, int, dict]:
    from vaxops.vaccination.batch import DoseItem, record_doses

    statuses: dict[str, int] = {}
    started = time.perf_counter()
    with path.open(newline="") as f:
        reader = csv.reader(f)
        next(reader)
        fromiso, new_uuid = dt.datetime.fromisoformat, uuid.UUID
        items: list[DoseItem] = []
        n = 0

        def flush() -> None:
            for o in record_doses(items, acting_user=user, source="import"):
                statuses[o.status if o.status != "rejected" else o.code] = statuses.get(
                    o.status if o.status != "rejected" else o.code, 0) + 1
            items.clear()

        for key, person_id, product, lot, site, at in reader:
            items.append(DoseItem(client_uuid=new_uuid(key), person_id=int(person_id), product_code=product,
                                  lot_number=lot, site_code=site, administered_at=fromiso(at)))
            n += 1
            if len(items) >= chunk:
                flush()
        if items:
            flush()
    return time.perf_counter() - started, n, statuses


def _raw_rate(sqlite: bool, bare: bool = False) -> tuple[float, int]:
    """The same dose rows into a fresh copy of the dose table, rows/s: with its indexes and
    foreign keys, or ``bare`` (its columns and primary key only: the floor of what any writer of
    these rows pays on this machine)."""
    import re

    from django.db import connection, transaction

    from vaxops.vaccination.batch_write import copy_rows
    from vaxops.vaccination.models import DoseRecord

    table_name = DoseRecord._meta.db_table
    raw = "bench_raw_bare" if bare else "bench_raw_dose"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table_name} ORDER BY id")
        columns = [c[0] for c in cursor.description]
        rows = cursor.fetchall()
        if sqlite:
            cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [table_name])
            ddl = [r[0] for r in cursor.fetchall()]
            for i, statement in enumerate(ddl):
                statement = statement.replace(f'"{table_name}"', f'"{raw}"')
                if statement.startswith("CREATE INDEX") or statement.startswith("CREATE UNIQUE INDEX"):
                    if bare:
                        continue
                    head, rest = statement.split(" ON ", 1)
                    statement = f"{head.rsplit(' ', 1)[0]} raw_idx_{i} ON {rest}"
                elif bare:
                    statement = re.sub(r' REFERENCES "[^"]+" \("id"\) DEFERRABLE INITIALLY DEFERRED', "", statement)
                    statement = statement.replace(" UNIQUE", "")
                cursor.execute(statement)
        elif bare:
            cursor.execute(f"CREATE TABLE {raw} (LIKE {table_name} INCLUDING DEFAULTS)")
            cursor.execute(f"ALTER TABLE {raw} ADD PRIMARY KEY (id)")
        else:
            cursor.execute(f"CREATE TABLE {raw} (LIKE {table_name} INCLUDING ALL)")
            # LIKE copies no foreign keys: add the dose table's own (deferred, checked at commit).
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table_name],
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {raw} ADD {definition}")
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if sqlite:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {raw} ({', '.join(columns)}) VALUES ({marks})", rows)
        else:
            copy_rows(raw, columns, rows)
    return time.perf_counter() - started, len(rows)


def role_run(url: str, rows: int, chunk: int, profile: bool) -> dict:
    django_setup(url)
    from django.core.management import call_command

    from conftest import build_world, open_today, stock
    from vaxops.campaign.services import counter_snapshot, rebuild_counters, residence_snapshot
    from vaxops.vaccination.batch import DoseItem, record_doses
    from vaxops.vaccination.models import DoseRecord

    sqlite = not is_postgres(url)
    call_command("migrate", verbosity=0)
    world = build_world()
    user = world.users["vaccinator"]
    t = time.perf_counter()
    ids = _setup_people(rows)
    now = dt.datetime.now(dt.UTC)
    month_ago = now - dt.timedelta(days=30)
    # Doses given today need an open session of the site (issue 9), and each dose draws one from
    # the site's store (issue 8): both set up here, untimed.
    from vaxops.campaign.services import TZ

    for at in (month_ago - dt.timedelta(hours=2), now):
        open_today("KD-MASS", at.astimezone(TZ).date())
    for lot in world.lots.values():
        stock(world, "KD-MASS", lot, rows + rows // 10)
    earlier = [DoseItem(client_uuid=uuid.uuid4(), person_id=pk, product_code="BIBP", lot_number="B2021001",
                        site_code="KD-MASS", administered_at=month_ago - dt.timedelta(hours=2))
               for pk in ids[::10]]
    for start in range(0, len(earlier), 10_000):
        out = record_doses(earlier[start:start + 10_000], acting_user=user, source="import", now=month_ago)
        assert all(o.status == "created" for o in out), {o.code for o in out}
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    path = BENCH_VAR / f"ingest-{'sqlite' if sqlite else 'pg'}.csv"
    _write_csv(path, ids, now)
    setup_s = time.perf_counter() - t
    if sqlite:
        from django.db import connection

        with connection.cursor() as cursor:  # a fair start: the setup's WAL folded into the database
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    prof = cProfile.Profile() if profile else None
    if prof:
        prof.enable()
    cpu0 = time.process_time()
    from vaxops.vaccination.batch_engine import TIMINGS

    TIMINGS.clear()
    seconds, n, statuses = _ingest(path, user, chunk)
    cpu = time.process_time() - cpu0
    if prof:
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(30)
        print(out.getvalue(), file=sys.stderr)
    phases = dict(TIMINGS)
    total = DoseRecord.objects.count()
    live = counter_snapshot(), residence_snapshot()
    rebuild_counters()
    consistent = (counter_snapshot(), residence_snapshot()) == live and total == n + len(earlier)
    raw_s, raw_n = _raw_rate(sqlite)
    bare_s, _ = _raw_rate(sqlite, bare=True)
    return {"phases": {k: round(v, 2) for k, v in phases.items()}, "rows": n, "chunk": chunk, "seconds": seconds, "rate": n / seconds, "cpu_us": cpu / n * 1e6,
            "statuses": statuses, "consistent": consistent, "raw_rate": raw_n / raw_s, "raw_rows": raw_n,
            "bare_rate": raw_n / bare_s,
            "setup_s": setup_s, "load": Path("/proc/loadavg").read_text().split()[0]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", default="main", choices=["main", "run"])
    parser.add_argument("--url", default="")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="sqlite")
    parser.add_argument("--postgres", action="store_true", help="same as --db postgres")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--chunk", type=int, default=10_000)
    parser.add_argument("--profile", action="store_true", help="cProfile of the timed ingest (to stderr)")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    if args.role == "run":
        print(json.dumps(role_run(args.url, args.rows, args.chunk, args.profile)))
        return
    dbs = ["postgres"] if args.postgres else (["sqlite", "postgres"] if args.db == "both" else [args.db])
    os.environ.setdefault("VAXOPS_RETROSPECTIVE_HOURS", "24")
    rows = []
    for db in dbs:
        url = pg_url(PG_DB) if db == "postgres" else sqlite_url("ingest.sqlite3")
        if db == "postgres":
            pg_recreate(PG_DB)
        try:
            extra = ["--rows", str(args.rows), "--chunk", str(args.chunk)] + (["--profile"] if args.profile else [])
            r = run_role(SCRIPT, "run", url, extra)
        finally:
            if db == "postgres":
                pg_drop(PG_DB)
        print(f"[{db}] {r['rows']} rows in {r['seconds']:.2f} s: {r['rate']:,.0f} doses/s "
              f"({r['cpu_us']:.1f} µs CPU/dose); raw {r['raw_rate']:,.0f} rows/s (bare table {r['bare_rate']:,.0f}); ratio {r['rate'] / r['raw_rate']:.3f}; "
              f"{r['statuses']} consistent={r['consistent']} load {r['load']} phases {r['phases']}", flush=True)
        target = TARGETS[db]
        rows.append([db, f"{r['rows']:,}", f"{r['chunk']:,}", f"{r['seconds']:.2f}", f"{r['rate']:,.0f}",
                     f"{r['cpu_us']:.1f}", f"{r['raw_rate']:,.0f}", f"{r['rate'] / r['raw_rate']:.3f}",
                     f"{r['bare_rate']:,.0f}",
                     "yes" if r["consistent"] else "**no**", r["load"],
                     f"≥ {target:,}/s: " + ("met" if r["rate"] >= target else "**missed**")])
    if args.no_write:
        return
    cmd = " ".join(["bench/bench_ingest.py", *sys.argv[1:]])
    body = "\n".join([
        *machine_lines(),
        f"- Command: `.venv/bin/python {cmd}`",
        "- Timed: CSV file → `DoseItem` → `record_doses` in chunks (all rules, person locks, history, "
        "counters, one audit event per chunk); a tenth of the rows are second doses with a history.",
        "- Raw: the same dose rows into a fresh copy of the dose table with its indexes and foreign keys "
        "(PostgreSQL `COPY`, SQLite `executemany`, one transaction, commit included), in the same run; "
        "\"bare table\": the same rows into a copy with the columns and primary key only (no other index, no "
        "foreign key), the floor any writer of these rows pays here.",
        "",
        table(["database", "rows", "chunk", "s", "doses/s", "µs CPU/dose", "raw rows/s", "ingest ÷ raw",
               "bare table rows/s", "consistent", "load (1 min)", "target"], rows),
    ])
    update_section(SECTION, body)


if __name__ == "__main__":
    main()
