"""Dose recording over HTTP: POST /api/v1/doses through gunicorn, on SQLite and PostgreSQL.

Each run prepares a fresh database (people with valid resident IDs, one site, released lots, a
vaccinator with a bearer token), starts gunicorn on 127.0.0.1 with a worker/thread setting,
and drives it from a separate client process: a thread pool of persistent ``http.client``
connections POSTing first doses, each for a distinct person with a fresh ``client_uuid``,
bounded by a request count and a time limit. Afterwards the database is checked: exactly one
DoseRecord and one ``dose.record`` audit event per 201 response, counters summing to the dose
count, no other status. The same client concurrency then measures the database's raw rate of
single-row INSERT transactions, and the report gives doses/s ÷ raw inserts/s.

    .venv/bin/python bench/bench_http_doses.py            # full: 10,000 requests or 60 s per setting
    .venv/bin/python bench/bench_http_doses.py --quick    # under ~2 minutes

Results go to the "Dose recording over HTTP" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    BENCH_VAR,
    ROOT,
    django_setup,
    is_postgres,
    machine_lines,
    percentile,
    pg_drop,
    pg_recreate,
    pg_url,
    run_role,
    sqlite_path,
    sqlite_url,
    table,
    update_section,
)

SCRIPT = Path(__file__).resolve()
SECTION = "Dose recording over HTTP"
# VAXOPS_BENCH_HTTP_DB: another database name, for two trees or helpers benchmarking at once.
PG_DB = os.environ.get("VAXOPS_BENCH_HTTP_DB", "vaxops_bench_http")
SITE = "KD-MASS"
LOTS = {"BIBP": ["B2026001", "B2026002"], "CORONAVAC": ["C2026001"]}
GUNICORN = str(ROOT / ".venv" / "bin" / "gunicorn")
TARGETS = {"postgres": (1000.0, 50.0), "sqlite": (400.0, None)}


@dataclass(frozen=True)
class ServerSetting:
    """A gunicorn worker/thread setting."""

    workers: int
    threads: int

    @property
    def label(self) -> str:
        kind = "sync" if self.threads == 1 else "gthread"
        return f"-w {self.workers} --threads {self.threads} ({kind})"


# ---------------------------------------------------------------------------------------------
# Roles run in their own process (Django reads its settings once per process).
# ---------------------------------------------------------------------------------------------


def role_prepare(url: str, people: int, visits: bool = False) -> dict[str, Any]:
    """Migrate a fresh database and create the world and ``people`` residents; write their ids.

    The site's session of today is open (a dose given today needs it: issue 9); it is inserted
    directly as the bench's set-up, like the test fixtures, since the gate is not what is timed.
    With ``visits``, every resident is also checked in and screened at that session (one
    ``replay_visits`` call), and each dose is then sent with its ``visit_id``."""
    django_setup(url)
    import datetime as dt

    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from vaxops.access.services import create_user
    from vaxops.catalog.models import Product
    from vaxops.regions.models import Division, Level
    from vaxops.registry.idnumber import make_id_number
    from vaxops.registry.models import Person
    from vaxops.sites.models import Site
    from vaxops.supply.ledger import Line, post
    from vaxops.supply.models import Lot, Store

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    pop = {"pop_0_2": 100, "pop_3_11": 300, "pop_12_17": 200, "pop_18_59": 50000, "pop_60_plus": 10000}
    sc = Division.objects.create(code="510000", level=Level.PROVINCE, name_zh="四川省", name_en="Sichuan", **pop)
    gz = Division.objects.create(code="513300", level=Level.PREFECTURE, parent=sc, name_zh="甘孜藏族自治州",
                                 name_en="Garze", **pop)
    kd = Division.objects.create(code="513301", level=Level.COUNTY, parent=gz, name_zh="康定市",
                                 name_en="Kangding", **pop)
    site = Site.objects.create(code=SITE, name_zh="康定体育馆大规模接种点", name_en=SITE, kind="mass_site",
                               division=kd, county_code=kd.county_code)
    from django.utils import timezone

    from vaxops.campaign.services import TZ
    from vaxops.sites.models import Session, SessionStatus

    session = Session.objects.create(site=site, date=timezone.now().astimezone(TZ).date(), status=SessionStatus.OPEN,
                                     opens_at=dt.time(0, 0), closes_at=dt.time(23, 59, 59), opened_at=timezone.now())
    lots = []
    for code, numbers in LOTS.items():
        product = Product.objects.get(code=code)
        for number in numbers:
            lots.append(Lot.objects.create(product=product, lot_number=number, expiry_date=dt.date(2030, 1, 1),
                                           status="released"))
    # The site's store, stocked with every lot (each dose draws one from it).
    store = Store.objects.create(code=SITE, name_zh="康定体育馆大规模接种点", name_en=SITE, level=5, division=kd,
                                 county_code=kd.county_code, site=Site.objects.get(code=SITE))
    with transaction.atomic():
        post([Line(store.pk, lot.pk, 10 * (people + 100), "receipt") for lot in lots], reason="receipt",
             user=None, occurred_at=dt.datetime.now(dt.UTC), document_number="BENCH-STOCK")
    _, token = create_user(username="bench_vaccinator", role="vaccinator", scope=SITE, with_token=True,
                           source="cli")
    groups = ["", "", "medical_staff", "teacher"]
    batch: list[Person] = []
    base = dt.date(1950, 1, 1)
    for i in range(people + 2):
        born = base + dt.timedelta(days=i // 900)
        batch.append(Person(
            id_number=make_id_number("513301", born, i % 900 + 1), name=f"居民{i}", birth_date=born,
            sex="M" if (i % 900 + 1) % 2 else "F", home_division=kd, county_code="513301",
            priority_groups=[groups[i % 4]] if groups[i % 4] else [],
        ))
        if len(batch) >= 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    visit_of: dict[int, int] = {}
    if visits:
        from django.contrib.auth import get_user_model

        from vaxops.visits.models import Visit
        from vaxops.visits.services import replay_visits

        vaccinator = get_user_model().objects.get(username="bench_vaccinator")
        start = max(timezone.now() - dt.timedelta(minutes=50),
                    dt.datetime.combine(session.date, dt.time(0, 0, 1), TZ))
        replay_visits([{"session_id": session.pk, "person_id": pk, "client_uuid": uuid.uuid4(),
                        "checked_in_at": start, "screened_at": start + dt.timedelta(seconds=1), "outcome": "pass"}
                       for pk in ids], acting_user=vaccinator)
        visit_of = dict(Visit.objects.filter(session=session).values_list("person_id", "pk"))
    # Two doses in-process, to count the statements of the full path (they are part of the
    # totals): the first in a fresh process (token, grants, catalog, site and the day's session
    # are read or created), the second as every later dose of a running worker makes it.
    client = Client()
    probes = []
    for person_id in (ids[-1], ids[-2]):
        body = {"client_uuid": str(uuid.uuid4()), "person_id": person_id, "product": "BIBP",
                "lot_number": LOTS["BIBP"][0], "site_code": SITE,
                "administered_at": dt.datetime.now(dt.UTC).isoformat()}
        if visits:
            body["visit_id"] = visit_of[person_id]
        with CaptureQueriesContext(connection) as ctx:
            resp = client.post("/api/v1/doses", data=json.dumps(body), content_type="application/json",
                               HTTP_AUTHORIZATION=f"Bearer {token}")
        if resp.status_code != 201:
            raise RuntimeError(f"probe dose refused: {resp.status_code} {resp.content[:500]!r}")
        probes.append(ctx.captured_queries)
    ids_file = BENCH_VAR / f"people-{'pg' if is_postgres(url) else 'sqlite'}.json"
    ids_file.write_text(json.dumps([[pk, visit_of[pk]] if visits else pk for pk in ids[:-2]]))
    return {
        "token": token, "ids_file": str(ids_file), "people": len(ids) - 2,
        "queries_first_dose": len(probes[0]),
        "queries_per_dose": len(probes[1]),
        "queries": [q["sql"][:160] for q in probes[1]],
        "seconds": round(time.perf_counter() - started, 1),
    }


def role_verify(url: str) -> dict[str, Any]:
    """Dose, counter and audit totals, and duplicates, as the database holds them."""
    django_setup(url)
    from django.db.models import Count, Sum

    from vaxops.campaign.models import DoseCounter
    from vaxops.core.models import AuditEvent
    from vaxops.vaccination.models import DoseRecord

    dupes = (
        DoseRecord.objects.values("person_id").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    return {
        "doses": DoseRecord.objects.count(),
        "counter_sum": DoseCounter.objects.aggregate(s=Sum("count"))["s"] or 0,
        "audits": AuditEvent.objects.filter(action="dose.record").count(),
        "people_with_two_doses": dupes,
    }


def role_client(port: int, token: str, ids_file: str, offset: int, count: int, concurrency: int,
                seconds: float, warmup: int) -> dict[str, Any]:
    """POST first doses from ``concurrency`` threads; each thread keeps one connection open.

    Every thread first sends ``warmup`` doses (not timed), then all start together and stop at
    ``count`` measured requests or ``seconds``, whichever comes first.
    """
    import datetime as dt

    ids = json.loads(Path(ids_file).read_text())[offset:]
    products = [(p, n) for p, numbers in LOTS.items() for n in numbers]
    next_index = iter(range(len(ids)))
    lock = threading.Lock()
    barrier = threading.Barrier(concurrency + 1)
    stop = threading.Event()
    measured = [0]
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    statuses: dict[int, int] = {}
    errors: list[str] = []
    created_ids: list[int] = []

    def take(measure: bool) -> int | None:
        with lock:
            if measure:
                if measured[0] >= count:
                    return None
                measured[0] += 1
            return next(next_index, None)

    def post(conn: http.client.HTTPConnection, person_index: int) -> tuple[int, bytes]:
        product, lot = products[person_index % len(products)]
        entry = ids[person_index]
        person_id, visit_id = entry if isinstance(entry, list) else (entry, None)
        fields = {
            "client_uuid": str(uuid.uuid4()), "person_id": person_id, "product": product,
            "lot_number": lot, "site_code": SITE,
            "administered_at": dt.datetime.now(dt.UTC).isoformat(),
        }
        if visit_id is not None:
            fields["visit_id"] = visit_id
        body = json.dumps(fields)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for attempt in range(2):
            try:
                conn.request("POST", "/api/v1/doses", body=body, headers=headers)
                resp = conn.getresponse()
                return resp.status, resp.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # A keep-alive connection closed by the server before our request reached it
                # (nothing was processed): reconnect once and resend.
                conn.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def worker(slot: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            for phase in ("warmup", "measure"):
                if phase == "measure":
                    barrier.wait()
                n = 0
                while not stop.is_set():
                    if phase == "warmup" and n >= warmup:
                        break
                    index = take(phase == "measure")
                    if index is None:
                        break
                    n += 1
                    t0 = time.perf_counter()
                    try:
                        status, payload = post(conn, index)
                    except Exception as exc:  # noqa: BLE001 - counted as an error
                        status, payload = 599, str(exc).encode()
                        conn.close()
                    elapsed = time.perf_counter() - t0
                    with lock:
                        statuses[status] = statuses.get(status, 0) + 1
                        if status == 201:
                            created_ids.append(ids[index])
                        elif len(errors) < 10:
                            errors.append(f"{status}: {payload[:300]!r}")
                    if phase == "measure":
                        latencies[slot].append(elapsed)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait(timeout=300)
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while any(t.is_alive() for t in threads) and time.perf_counter() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=90)
    elapsed = time.perf_counter() - t0
    lat = [x for per in latencies for x in per]
    return {
        "requests": len(lat), "seconds": round(elapsed, 2), "rate": len(lat) / elapsed if elapsed else 0.0,
        "p50_ms": percentile(lat, 50) * 1000, "p99_ms": percentile(lat, 99) * 1000,
        "statuses": {str(k): v for k, v in sorted(statuses.items())}, "errors": errors,
        "created": len(created_ids), "used": sum(statuses.values()),
    }


def role_raw(url: str, concurrency: int, seconds: float, count: int) -> dict[str, Any]:
    """Single-row INSERT + COMMIT transactions from ``concurrency`` threads, one connection each."""
    stop = threading.Event()
    lock = threading.Lock()
    done = [0]
    latencies: list[float] = []
    if is_postgres(url):
        import psycopg

        dsn = url.replace("postgres://", "postgresql://")

        def connect() -> Any:
            return psycopg.connect(dsn)

        with psycopg.connect(dsn, autocommit=True) as c:
            c.execute("DROP TABLE IF EXISTS bench_raw_insert")
            c.execute("CREATE TABLE bench_raw_insert (id bigserial PRIMARY KEY, k uuid NOT NULL, v text)")

        def one(conn: Any) -> None:
            conn.execute("INSERT INTO bench_raw_insert (k, v) VALUES (%s, %s)", (uuid.uuid4(), "x" * 40))
            conn.commit()
    else:
        import sqlite3

        path = sqlite_path(url)

        def connect() -> Any:
            conn = sqlite3.connect(path, timeout=20, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            return conn

        c = connect()
        c.execute("DROP TABLE IF EXISTS bench_raw_insert")
        c.execute("CREATE TABLE bench_raw_insert (id INTEGER PRIMARY KEY, k TEXT NOT NULL, v TEXT)")
        c.close()

        def one(conn: Any) -> None:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO bench_raw_insert (k, v) VALUES (?, ?)", (str(uuid.uuid4()), "x" * 40))
            conn.execute("COMMIT")

    barrier = threading.Barrier(concurrency + 1)

    def worker() -> None:
        conn = connect()
        try:
            barrier.wait()
            while not stop.is_set():
                with lock:
                    if done[0] >= count:
                        return
                    done[0] += 1
                t0 = time.perf_counter()
                one(conn)
                elapsed = time.perf_counter() - t0
                with lock:
                    latencies.append(elapsed)
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    t0 = time.perf_counter()
    deadline = t0 + seconds
    while any(t.is_alive() for t in threads) and time.perf_counter() < deadline:
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.perf_counter() - t0
    return {
        "inserts": len(latencies), "seconds": round(elapsed, 2), "rate": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000, "p99_ms": percentile(latencies, 99) * 1000,
    }


# ---------------------------------------------------------------------------------------------
# Orchestration
# ---------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/v1/openapi.json")
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not become ready")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds used so far by process ``pid`` (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue
    return out


def _pg_backend_cpu(url: str) -> float:
    """CPU seconds used by the PostgreSQL backends connected to the benchmark database."""
    import psycopg

    from bench._common import PG_ADMIN_URL

    with psycopg.connect(PG_ADMIN_URL.replace("postgres://", "postgresql://")) as conn:
        pids = [r[0] for r in conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (url.rsplit("/", 1)[1],)
        )]
    return sum(_cpu_seconds(p) for p in pids)


def stop_server(proc: subprocess.Popen) -> None:
    """Stop the gunicorn master we started (and so its workers), by its process group."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def run_setting(url: str, setting: ServerSetting, prep: dict[str, Any], offset: int, args: argparse.Namespace,
                db: str) -> dict[str, Any]:
    """Serve with one gunicorn setting and drive it; returns the client's figures."""
    port = free_port()
    log = open(BENCH_VAR / f"gunicorn-{db}-{setting.workers}x{setting.threads}.log", "w")  # noqa: SIM115
    env = {**os.environ, "VAXOPS_DATABASE_URL": url, "VAXOPS_FAST_HASHER": "1", "VAXOPS_CONN_MAX_AGE": "600"}
    cmd = [GUNICORN, "vaxops.wsgi", "-w", str(setting.workers), "--threads", str(setting.threads),
           "-b", f"127.0.0.1:{port}", "--keep-alive", "30", "--timeout", "120", "--backlog", "2048"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_ready(port, proc)
        workers = _children(proc.pid)
        cpu0 = sum(_cpu_seconds(p) for p in workers)
        result = run_role(SCRIPT, "client", url, [
            "--port", str(port), "--token", prep["token"], "--ids-file", prep["ids_file"],
            "--offset", str(offset), "--count", str(args.requests), "--concurrency", str(args.concurrency),
            "--seconds", str(args.seconds), "--warmup", str(args.warmup),
        ], timeout=args.seconds + 300)
        used = max(1, result["used"])
        result["server_cpu_ms"] = (sum(_cpu_seconds(p) for p in workers) - cpu0) / used * 1000
        result["db_cpu_ms"] = _pg_backend_cpu(url) / used * 1000 if is_postgres(url) else None
        result["load"] = os.getloadavg()[0]
    finally:
        stop_server(proc)
        log.close()
    result["command"] = " ".join(["gunicorn", *cmd[1:]]).replace(str(port), "PORT")
    return result


def bench_database(db: str, args: argparse.Namespace, settings: list[ServerSetting]) -> dict[str, Any]:
    url = pg_url(PG_DB) if db == "postgres" else sqlite_url("http_doses.sqlite3")
    if db == "postgres":
        pg_recreate(PG_DB)
    try:
        per_setting = args.requests + args.concurrency * args.warmup
        prep = run_role(SCRIPT, "prepare", url, ["--people", str(per_setting * len(settings)),
                                                 *(["--visits"] if args.visits else [])])
        print(f"[{db}] prepared {prep['people']} people in {prep['seconds']} s; "
              f"{prep['queries_first_dose']} statements for a worker's first dose, "
              f"{prep['queries_per_dose']} for each later one", flush=True)
        runs = []
        offset = 0
        expected = 2  # the probe doses counted in prepare
        for setting in settings:
            result = run_setting(url, setting, prep, offset, args, db)
            offset += result["used"]
            expected += result["created"]
            check = run_role(SCRIPT, "verify", url)
            result["verify"] = check
            result["consistent"] = (
                check["doses"] == expected == check["counter_sum"] == check["audits"]
                and check["people_with_two_doses"] == 0
            )
            result["non_201"] = result["used"] - result["created"]
            runs.append((setting, result))
            print(f"[{db}] {setting.label}: {result['rate']:.0f} doses/s p50 {result['p50_ms']:.1f} ms "
                  f"p99 {result['p99_ms']:.1f} ms cpu {result['server_cpu_ms']:.1f}/{result['db_cpu_ms']} ms "
                  f"load {result['load']:.1f} statuses {result['statuses']} consistent={result['consistent']}",
                  flush=True)
            if result["errors"]:
                print("   errors:", result["errors"][:3], flush=True)
        raw = run_role(SCRIPT, "raw", url, ["--concurrency", str(args.concurrency), "--seconds",
                                            str(args.raw_seconds), "--count", str(args.raw_count)])
        print(f"[{db}] raw INSERT+COMMIT: {raw['rate']:.0f}/s p50 {raw['p50_ms']:.2f} ms", flush=True)
        return {"prep": prep, "runs": runs, "raw": raw}
    finally:
        if db == "postgres" and not args.keep:
            pg_drop(PG_DB)


def report(results: dict[str, dict[str, Any]], args: argparse.Namespace, command: str) -> str:
    rows = []
    summary_rows = []
    for db, res in results.items():
        raw = res["raw"]
        best_setting, best = max(res["runs"], key=lambda r: r[1]["rate"] if r[1]["consistent"] else -1)
        for setting, r in res["runs"]:
            rows.append([
                db, f"`{setting.label}`", r["requests"], f"{r['seconds']:.1f}", f"{r['rate']:.0f}",
                f"{r['p50_ms']:.1f}", f"{r['p99_ms']:.1f}", r["non_201"], f"{r['server_cpu_ms']:.1f}",
                "-" if r["db_cpu_ms"] is None else f"{r['db_cpu_ms']:.1f}", f"{r['load']:.1f}",
                "yes" if r["consistent"] else "**NO**",
            ])
        target_rate, target_p99 = TARGETS[db]
        verdict = "met" if best["rate"] >= target_rate and (target_p99 is None or best["p99_ms"] <= target_p99) \
            else "**missed**"
        target = f"≥ {target_rate:.0f}/s" + (f", p99 ≤ {target_p99:.0f} ms" if target_p99 else "")
        summary_rows.append([
            db, f"`{best_setting.label}`", f"{best['rate']:.0f}", f"{best['p50_ms']:.1f}", f"{best['p99_ms']:.1f}",
            f"{raw['rate']:.0f}", f"{best['rate'] / raw['rate']:.3f}", f"{res['prep']['queries_per_dose']} ({res['prep']['queries_first_dose']} first)",
            f"{target}: {verdict}",
        ])
    ceilings = []
    for db, res in results.items():
        _, best = max(res["runs"], key=lambda r: r[1]["rate"])
        cpu = best["server_cpu_ms"] + (best["db_cpu_ms"] or 0)
        ceilings.append(f"{db}: {cpu:.1f} ms CPU per dose (gunicorn workers"
                        + (" + PostgreSQL backends" if best["db_cpu_ms"] is not None else "")
                        + f") → at most ~{(os.cpu_count() or 1) * 1000 / cpu:.0f} doses/s on "
                        f"{os.cpu_count()} cores with nothing else running")
    lines = [
        *machine_lines(),
        f"- Command: `{command}`",
        f"- Load: {args.concurrency} client threads in a separate process, one persistent `http.client` "
        f"connection each, to 127.0.0.1; each request is a first dose (BIBP or CoronaVac, 3 lots) for a "
        f"distinct person with a fresh `client_uuid`, through bearer auth, eligibility, lot check, person "
        f"lock, counter upsert and audit. Bound per setting: {args.requests} requests or {args.seconds:.0f} s; "
        f"{args.warmup} untimed warm-up doses per connection first. Settings: "
        f"`VAXOPS_CONN_MAX_AGE=600`, DEBUG off.",
        "- Statements per dose: counted on an in-process dose in a worker that has already recorded one "
        "(BEGIN and COMMIT included); in brackets a worker's first dose, which also reads the token, "
        "role grants, catalog and site and creates the day's session.",
        "- Check after each setting: DoseRecord rows = 201 responses = `dose.record` audit events = "
        "sum of counters, nobody with two doses, every response 201.",
        f"- Raw rate: single-row `INSERT` + `COMMIT` transactions into a small table of the same database, "
        f"{args.concurrency} threads with one driver connection each (psycopg / sqlite3 with the app's "
        f"WAL, synchronous=NORMAL, BEGIN IMMEDIATE), bounded by {args.raw_count} inserts or "
        f"{args.raw_seconds:.0f} s.",
        "",
        "Best setting per database:",
        "",
        table(["database", "gunicorn", "doses/s", "p50 ms", "p99 ms", "raw inserts/s", "doses ÷ raw",
               "statements/dose", "target"], summary_rows),
        "",
        "CPU ceiling: " + "; ".join(ceilings) + ". The 1-minute load average during each run is in the "
        "table below: other work on this machine shared the 2 cores.",
        "",
        "All settings tried:",
        "",
        table(["database", "gunicorn", "requests", "s", "doses/s", "p50 ms", "p99 ms", "non-201",
               "gunicorn CPU ms/dose", "PG backend CPU ms/dose", "load avg (1 min)", "DB check"],
              rows),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--role", default="main", choices=["main", "prepare", "verify", "client", "raw"])
    parser.add_argument("--url", default="")
    parser.add_argument("--quick", action="store_true", help="short run (under ~2 minutes)")
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--settings", default="", help="gunicorn settings as WxT,WxT (e.g. 4x1,2x8)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--requests", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--raw-seconds", type=float, default=0)
    parser.add_argument("--raw-count", type=int, default=0)
    parser.add_argument("--no-write", action="store_true", help="do not update bench/RESULTS.md")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL database afterwards")
    # role arguments
    parser.add_argument("--people", type=int, default=0)
    parser.add_argument("--visits", action="store_true",
                        help="each dose at a visit (checked in and screened beforehand), sent with its visit_id")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--token", default="")
    parser.add_argument("--ids-file", default="")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--count", type=int, default=0)
    args = parser.parse_args()

    if args.role != "main":
        if args.role == "prepare":
            out = role_prepare(args.url, args.people, args.visits)
        elif args.role == "verify":
            out = role_verify(args.url)
        elif args.role == "client":
            out = role_client(args.port, args.token, args.ids_file, args.offset, args.count, args.concurrency,
                              args.seconds, args.warmup)
        else:
            out = role_raw(args.url, args.concurrency, args.seconds, args.count)
        print(json.dumps(out, default=str))
        return

    args.requests = args.requests or (2000 if args.quick else 10000)
    args.seconds = args.seconds or (10.0 if args.quick else 60.0)
    args.raw_seconds = args.raw_seconds or (5.0 if args.quick else 20.0)
    args.raw_count = args.raw_count or (20000 if args.quick else 200000)
    spec = args.settings or ("2x8" if args.quick else "1x8,2x4,2x8,4x4")
    settings = [ServerSetting(*map(int, s.split("x"))) for s in spec.split(",")]
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    dbs = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    results = {db: bench_database(db, args, settings) for db in dbs}
    command = ".venv/bin/python bench/bench_http_doses.py" + " ".join([""] + sys.argv[1:])
    text = report(results, args, command)
    print()
    print(text)
    if not args.no_write:
        update_section(SECTION, text)


if __name__ == "__main__":
    main()
