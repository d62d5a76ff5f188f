"""Import throughput: rows per second of ``vaxops import people`` and ``vaxops import doses``
(in one process, SQLite in a throw-away file), beside a raw reference measured in the same run.

Builds the test world, writes a people file of N residents of Kangding and a dose file of N
first doses at the Kangding gymnasium for them, and times ``run_job`` for each (rows mode,
default chunk size): reading, parsing, the batch engines, row outcomes and progress. The raw
reference is the same batch service called directly on the same number of items (no file, no
job), so the figure separates the import machinery from the engines.

    .venv/bin/python bench/bench_imports.py [--rows 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="vaxops-imports-")
    os.environ.update(DJANGO_SETTINGS_MODULE="vaxops.settings", VAXOPS_DEMO="1", VAXOPS_FAST_HASHER="1",
                      VAXOPS_DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3", VAXOPS_VAR_DIR=tmp,
                      VAXOPS_RETROSPECTIVE_HOURS="24")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from conftest import build_world
    from vaxops.interop.runner import run_job
    from vaxops.interop.services import create_job
    from vaxops.interop.tests.helpers import DOSE_HEADER, PEOPLE_HEADER, csv_bytes
    from vaxops.registry.batch import PersonItem, register_people
    from vaxops.registry.idnumber import make_id_number

    world = build_world()
    user = world.users["county_command"]
    n = args.rows
    born = dt.date(1980, 5, 17)

    def names(i: int) -> str:
        return "张" + "三四五六七八九十"[i % 8] + "一二三四五六七八九十"[(i // 8) % 10]

    def ident(i: int, base: dt.date = born) -> str:
        return make_id_number("513301", base + dt.timedelta(days=i // 900), i % 900 + 1)

    people = csv_bytes(PEOPLE_HEADER, [[ident(i), names(i), "", "513301001", ""] for i in range(n)])
    doses = csv_bytes(DOSE_HEADER, [[ident(i), "BIBP", "B2021001", "KD-MASS", "2021-05-10T10:00:00+08:00", "", ""]
                                    for i in range(n)])
    out = []
    for kind, data, reason in (("people", people, ""), ("doses", doses, "bench")):
        job = create_job(kind, data, file_name=f"{kind}.csv", acting_user=user, source="cli", reason=reason)
        start = time.perf_counter()
        job = run_job(job.pk)
        seconds = time.perf_counter() - start
        out.append((kind, n, job.created, seconds, n / seconds))
    ref_items = [PersonItem(ident(i, dt.date(1990, 1, 1)), names(i), "", "513301001") for i in range(n)]
    start = time.perf_counter()
    register_people(ref_items, acting_user=user, source="cli")
    ref = time.perf_counter() - start
    from vaxops.interop.doses import parse_moment
    from vaxops.vaccination.batch import DoseItem, record_doses

    at = parse_moment("2021-05-10T10:00:00+08:00")
    dose_items = [DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001", site_code="KD-MASS",
                           administered_at=at, id_number=item.id_number, retrospective_reason="bench")
                  for item in ref_items]
    start = time.perf_counter()
    record_doses(dose_items, acting_user=user, source="cli")
    ref_doses = time.perf_counter() - start
    print("| kind | rows | created | seconds | rows/s |")
    print("|---|---|---|---|---|")
    for kind, rows, created, seconds, rate in out:
        print(f"| {kind} | {rows} | {created} | {seconds:.2f} | {rate:.0f} |")
    print(f"| raw register_people, one batch | {n} | {n} | {ref:.2f} | {n / ref:.0f} |")
    print(f"| raw record_doses, one batch | {n} | {n} | {ref_doses:.2f} | {n / ref_doses:.0f} |")
    with open("/proc/loadavg") as f:
        print("load average:", f.read().split()[:3])


if __name__ == "__main__":
    main()
