"""Summary/dashboard latency at 1 M and 10 M dose records (PostgreSQL).

Builds a fresh PostgreSQL database (``vaxops_bench_summary``, dropped at the end): Ganzi
prefecture with its 18 counties and two townships each, one site per county, the catalogue's
products with one lot each, and dose records generated in SQL (``INSERT … SELECT
generate_series``, with the table's secondary indexes and constraints dropped during the load
and rebuilt after it) spread over 100 days (2021-04-01 … 2021-07-09, 08:00-20:00 local), all
5 products, 5 age bands, 3 priority groups, dose numbers 1-3, 0.5 % voided. The counters are
then built by ``campaign.services.rebuild_counters()`` (by site and by residence: each
person lives in the town of the dose's site).

At each scale it times ``summary()`` (the service) and ``GET /api/v1/stats/summary`` (through
Django's test client with a prefecture-command bearer token) at the prefecture (513300) and at
a county (513301), with ``at`` at a day boundary and mid-day; each case is bounded by a call
count and a time limit. The first scale is loaded, measured, then topped up to the second.

    .venv/bin/python bench/bench_summary.py           # 1 M and 10 M, 200 calls per case
    .venv/bin/python bench/bench_summary.py --quick   # 0.1 M and 1 M, 30 calls per case

SQLite is not measured here: loading 10 M rows into it does not fit the time budget. Results go
to the "Summary latency at 1 M and 10 M doses" section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import (  # noqa: E402
    django_setup,
    machine_lines,
    percentile,
    pg_drop,
    pg_recreate,
    pg_url,
    table,
    update_section,
)

SECTION = "Summary latency at 1 M and 10 M doses"
PG_DB = "vaxops_bench_summary"
COUNTIES = [
    ("513301", "康定市"), ("513322", "泸定县"), ("513323", "丹巴县"), ("513324", "九龙县"),
    ("513325", "雅江县"), ("513326", "道孚县"), ("513327", "炉霍县"), ("513328", "甘孜县"),
    ("513329", "新龙县"), ("513330", "德格县"), ("513331", "白玉县"), ("513332", "石渠县"),
    ("513333", "色达县"), ("513334", "理塘县"), ("513335", "巴塘县"), ("513336", "乡城县"),
    ("513337", "稻城县"), ("513338", "得荣县"),
]
DAY = dt.date(2021, 6, 1)
TARGET_RATIO = 1.5


def build_world() -> dict[str, Any]:
    """Divisions, sites, lots and the two users; returns the ids the SQL generator needs."""
    from vaxops.access.services import create_user
    from vaxops.catalog.models import Product
    from vaxops.regions.models import Division, Level
    from vaxops.sites.models import Site
    from vaxops.supply.models import Lot

    pop = {"pop_0_2": 2000, "pop_3_11": 8000, "pop_12_17": 5000, "pop_18_59": 40000, "pop_60_plus": 9000}
    sc = Division.objects.create(code="510000", level=Level.PROVINCE, name_zh="四川省", name_en="Sichuan", **pop)
    gz = Division.objects.create(code="513300", level=Level.PREFECTURE, parent=sc, name_zh="甘孜藏族自治州",
                                 name_en="Garze", **pop)
    towns: list[tuple[int, str, int]] = []  # (division id, county code, site id)
    for code, name in COUNTIES:
        county = Division.objects.create(code=code, level=Level.COUNTY, parent=gz, name_zh=name, **pop)
        site = Site.objects.create(code=f"S{code}", name_zh=f"{name}接种点", kind="fixed_site", division=county,
                                   county_code=code)
        for n in (1, 2):
            town = Division.objects.create(code=f"{code}{n:03d}", level=Level.TOWNSHIP, parent=county,
                                           name_zh=f"{name}第{n}镇", **pop)
            towns.append((town.pk, code, site.pk))
    products = []
    for product in Product.objects.order_by("code"):
        lot = Lot.objects.create(product=product, lot_number=f"L-{product.code}", expiry_date=dt.date(2030, 1, 1))
        products.append((product.pk, lot.pk))
    vaccinator, _ = create_user(username="bench_vaccinator", role="vaccinator", scope="S513301", source="cli")
    _, token = create_user(username="bench_prefecture", role="prefecture_command", scope="513300",
                           with_token=True, source="cli")
    return {"towns": towns, "products": products, "vaccinator": vaccinator.pk, "token": token}


def _drop_secondary(cursor: Any, tbl: str) -> list[str]:
    """Drop ``tbl``'s secondary indexes, unique and foreign-key constraints; return SQL to restore them.

    Foreign keys come back ``NOT VALID`` (the generated rows reference rows that exist; checking
    10 M of them again would only lengthen the load) — the summary queries do not depend on them.
    """
    cursor.execute(
        "SELECT conname, pg_get_constraintdef(oid), contype FROM pg_constraint "
        "WHERE conrelid = %s::regclass AND contype IN ('u', 'f')", [tbl],
    )
    constraints = cursor.fetchall()
    names = {c[0] for c in constraints}
    cursor.execute(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %s AND i.indexname NOT IN "
        "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p')", [tbl, tbl],
    )
    indexes = [(n, d) for n, d in cursor.fetchall() if n not in names]
    restore = [d for _, d in indexes]
    for name, definition, kind in constraints:
        restore.append(f'ALTER TABLE {tbl} ADD CONSTRAINT "{name}" {definition}' + (" NOT VALID" if kind == "f" else ""))
        cursor.execute(f'ALTER TABLE {tbl} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f'DROP INDEX "{name}"')
    return restore


def load_doses(world: dict[str, Any], first: int, last: int) -> float:
    """Insert dose records number ``first``..``last`` (1-based) and their people; returns seconds."""
    from django.db import connection, transaction

    started = time.perf_counter()
    towns = world["towns"]
    products = world["products"]
    town_values = ", ".join(f"({i}, {d}, '{c}', {s})" for i, (d, c, s) in enumerate(towns))
    prod_values = ", ".join(f"({i}, {p}, {lot})" for i, (p, lot) in enumerate(products))
    p_first, p_last = (first - 1) // 3 + 1, (last - 1) // 3 + 1
    if (first - 1) % 3:
        p_first += 1  # that person was created with the previous batch
    with transaction.atomic(), connection.cursor() as cur:
        restore = _drop_secondary(cur, "registry_person") + _drop_secondary(cur, "vaccination_doserecord")
        cur.execute(f"CREATE TEMP TABLE bench_town (idx int, id bigint, county text, site bigint) ON COMMIT DROP; "
                    f"INSERT INTO bench_town VALUES {town_values}")
        cur.execute(f"CREATE TEMP TABLE bench_prod (idx int, id bigint, lot bigint) ON COMMIT DROP; "
                    f"INSERT INTO bench_prod VALUES {prod_values}")
        if p_last >= p_first:
            cur.execute(
                "INSERT INTO registry_person (id, id_number, name, phone, birth_date, sex, home_division_id, "
                "county_code, priority_groups, status, created_at) "
                "SELECT g, lpad(g::text, 18, '0'), 'p' || g, '', date '1940-01-01' + mod(g, 25000)::int, "
                "CASE WHEN mod(g, 2) = 0 THEN 'F' ELSE 'M' END, t.id, t.county, '[]'::jsonb, 'active', now() "
                "FROM generate_series(%s::bigint, %s::bigint) g JOIN bench_town t ON t.idx = mod(g, %s)",
                [p_first, p_last, len(towns)],
            )
        # Independent pseudo-random dimensions (seeded, so a run is reproducible): town, product,
        # day, second of the working day, age band and priority group.
        cur.execute("SELECT setseed(%s)", [(first % 1000) / 1000])
        cur.execute(
            "INSERT INTO vaccination_doserecord (person_id, product_id, lot_id, series, dose_number, kind, "
            "completes_series, overdue, site_id, session_id, division_id, county_code, vaccinator_id, "
            "administered_at, age_band, priority_group, client_uuid, fingerprint, override_reason, status, "
            "void_reason, voided_at, voided_by_id, created_at, residence_division_id, recorded_at, retrospective, "
            "retrospective_reason, override_codes) "
            "SELECT (g - 1) / 3 + 1, p.id, p.lot, 'COVID19', mod(g - 1, 3) + 1, "
            "CASE WHEN mod(g - 1, 3) = 2 THEN 'booster' ELSE 'primary' END, mod(g - 1, 3) = 1, false, t.site, "
            "NULL, t.id, t.county, %s, "
            "timestamptz '2021-04-01 08:00+08' + r.day * interval '1 day' + r.sec * interval '1 second', "
            "(array['0-2','3-11','12-17','18-59','60+'])[1 + r.band], "
            "(array['','medical_staff','teacher'])[1 + r.grp], md5(g::text)::uuid, '', '', "
            "CASE WHEN mod(g, 200) = 0 THEN 'voided' ELSE 'valid' END, '', NULL, NULL, now(), "
            # Residents of the town of their site, recorded as given (no late entries).
            "t.id, timestamptz '2021-04-01 08:00+08' + r.day * interval '1 day' + r.sec * interval '1 second', "
            "false, '', '[]'::jsonb "
            "FROM (SELECT g, floor(random() * %s)::int AS town, floor(random() * %s)::int AS prod, "
            "floor(random() * 100)::int AS day, floor(random() * 43200)::int AS sec, "
            "floor(random() * 5)::int AS band, floor(random() * 3)::int AS grp "
            "FROM generate_series(%s::bigint, %s::bigint) g) r "
            "JOIN bench_town t ON t.idx = r.town JOIN bench_prod p ON p.idx = r.prod",
            [world["vaccinator"], len(towns), len(products), first, last],
        )
        for sql in restore:
            cur.execute(sql)
        cur.execute("SELECT setval(pg_get_serial_sequence('registry_person', 'id'), "
                    "(SELECT max(id) FROM registry_person))")
    with connection.cursor() as cur:
        cur.execute("ANALYZE registry_person; ANALYZE vaccination_doserecord")
    return time.perf_counter() - started


def rebuild() -> tuple[int, float]:
    from django.db import connection

    from vaxops.campaign.services import rebuild_counters

    started = time.perf_counter()
    rows = rebuild_counters()
    with connection.cursor() as cur:
        cur.execute("ANALYZE campaign_dosecounter; ANALYZE campaign_residencecounter")
    return rows, time.perf_counter() - started


def measure(token: str, calls: int, cap_seconds: float) -> dict[tuple[str, str, str], list[float]]:
    """Latencies (s) per (way, division, at) case: the service and the API, each bounded."""
    from django.test import Client

    from vaxops.campaign.services import TZ, summary
    from vaxops.regions.models import Division

    client = Client()
    ats = {
        "day boundary": dt.datetime.combine(DAY, dt.time(0, 0), tzinfo=TZ),
        "mid-day": dt.datetime.combine(DAY, dt.time(14, 30), tzinfo=TZ),
    }
    out: dict[tuple[str, str, str], list[float]] = {}
    for code in ("513300", "513301"):
        for at_name, at in ats.items():
            for way in ("summary()", "GET /api/v1/stats/summary"):
                lat: list[float] = []
                deadline = time.perf_counter() + cap_seconds
                for i in range(calls + 3):
                    t0 = time.perf_counter()
                    if way == "summary()":
                        # Look the division up as the endpoint does, so both ways do the same work.
                        data = summary(Division.objects.get(code=code), at)
                    else:
                        resp = client.get("/api/v1/stats/summary", {"division": code, "at": at.isoformat()},
                                          HTTP_AUTHORIZATION=f"Bearer {token}")
                        if resp.status_code != 200:
                            raise RuntimeError(f"summary API answered {resp.status_code}: {resp.content[:300]!r}")
                        data = json.loads(resp.content)
                    elapsed = time.perf_counter() - t0
                    if i >= 3:  # the first calls warm caches
                        lat.append(elapsed)
                    if time.perf_counter() > deadline:
                        break
                if not data["doses_total"]:
                    raise RuntimeError("summary returned no doses")
                out[(way, code, at_name)] = lat
    return out


def check_totals(scale: int) -> dict[str, int]:
    """The API's prefecture total as of the end of the campaign equals the valid dose rows."""
    from vaxops.campaign.services import TZ, summary
    from vaxops.regions.models import Division
    from vaxops.vaccination.models import DoseRecord

    end = dt.datetime(2021, 7, 10, 12, 0, tzinfo=TZ)
    figures = summary(Division.objects.get(code="513300"), end)
    valid = DoseRecord.objects.filter(status="valid").count()
    if figures["doses_total"] != valid:
        raise RuntimeError(f"summary total {figures['doses_total']} != valid doses {valid}")
    return {"rows": scale, "valid": valid}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="0.1 M and 1 M, 30 calls per case")
    parser.add_argument("--scales", default="", help="comma-separated dose counts, e.g. 1000000,10000000")
    parser.add_argument("--calls", type=int, default=0)
    parser.add_argument("--cap-seconds", type=float, default=60.0, help="time limit per case")
    parser.add_argument("--no-write", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    scales = [int(s) for s in (args.scales or ("100000,1000000" if args.quick else "1000000,10000000")).split(",")]
    calls = args.calls or (30 if args.quick else 200)

    url = pg_url(PG_DB)
    pg_recreate(PG_DB)
    try:
        django_setup(url)
        from django.core.management import call_command
        from django.db import connection

        call_command("migrate", verbosity=0, interactive=False)
        world = build_world()
        results: dict[int, dict[str, Any]] = {}
        loaded = 0
        for scale in scales:
            load_s = load_doses(world, loaded + 1, scale)
            loaded = scale
            counters, rebuild_s = rebuild()
            check = check_totals(scale)
            with connection.cursor() as cur:
                cur.execute("SELECT pg_size_pretty(pg_total_relation_size('vaccination_doserecord'))")
                size = cur.fetchone()[0]
            print(f"{scale:,} doses: loaded in {load_s:.0f} s, {counters:,} counter rows rebuilt in "
                  f"{rebuild_s:.0f} s, dose table {size}", flush=True)
            lat = measure(world["token"], calls, args.cap_seconds)
            results[scale] = {"lat": lat, "counters": counters, "load_s": load_s, "rebuild_s": rebuild_s,
                              "size": size, "check": check, "load": os.getloadavg()[0]}
            for key, values in lat.items():
                print(f"  {key[0]:<28} {key[1]} {key[2]:<13} n={len(values):<4} "
                      f"p50 {percentile(values, 50) * 1000:7.2f} ms  p95 {percentile(values, 95) * 1000:7.2f} ms",
                      flush=True)
        connection.close()
    finally:
        if not args.keep:
            pg_drop(PG_DB)

    small, big = scales[0], scales[-1]
    rows = []
    worst = 0.0
    for key in results[small]["lat"]:
        a, b = results[small]["lat"][key], results[big]["lat"][key]
        ratio = percentile(b, 95) / percentile(a, 95)
        worst = max(worst, ratio)
        rows.append([
            key[0], key[1], key[2], f"{percentile(a, 50) * 1000:.2f}", f"{percentile(a, 95) * 1000:.2f}",
            f"{percentile(b, 50) * 1000:.2f}", f"{percentile(b, 95) * 1000:.2f}", f"{ratio:.2f}",
            "met" if ratio <= TARGET_RATIO else "**missed**",
        ])
    label = {s: (f"{s / 1e6:g} M" if s >= 1_000_000 else f"{s / 1e3:g} k") for s in scales}
    command = ".venv/bin/python bench/bench_summary.py" + " ".join([""] + sys.argv[1:])
    scale_rows = [
        [label[s], f"{r['load_s']:.0f}", f"{r['counters']:,}", f"{r['rebuild_s']:.0f}", r["size"],
         len(next(iter(r["lat"].values()))), f"{r['load']:.1f}"]
        for s, r in results.items()
    ]
    text = "\n".join([
        *machine_lines(),
        f"- Command: `{command}` (PostgreSQL only; SQLite not loaded to 10 M within the time budget)",
        "- Data: Ganzi prefecture 513300, 18 counties × 2 townships, one site per county, 5 products; dose "
        "records generated with `INSERT … SELECT generate_series` over 100 days (2021-04-01 … 2021-07-09, "
        "08:00-20:00), 5 age bands, 3 priority groups, dose numbers 1-3, 0.5 % voided; counters from "
        "`campaign.services.rebuild_counters()`; the prefecture total at the end of the campaign was checked "
        "against the valid dose rows.",
        f"- Calls: `summary()` and `GET /api/v1/stats/summary?division=…&at=…` (Django test client, bearer "
        f"token of a prefecture-command user), {calls} timed calls per case after 3 untimed ones, each case "
        f"capped at {args.cap_seconds:.0f} s; `at` = {DAY} 00:00 (day boundary) and {DAY} 14:30 (mid-day) "
        f"Asia/Shanghai.",
        "",
        table(["scale", "load s", "counter rows", "rebuild s", "dose table", "calls/case", "load avg (1 min)"],
              scale_rows),
        "",
        table(["way", "division", "at", f"p50 ms {label[small]}", f"p95 ms {label[small]}",
               f"p50 ms {label[big]}", f"p95 ms {label[big]}", f"p95 ratio {label[big]}/{label[small]}",
               f"target ≤ {TARGET_RATIO}"], rows),
        "",
        f"Worst p95 ratio: {worst:.2f} (target ≤ {TARGET_RATIO}).",
    ])
    print()
    print(text)
    if not args.no_write:
        update_section(SECTION, text)


if __name__ == "__main__":
    main()
