"""CPU per dose through the whole API stack, in one process (no HTTP server, no network).

Builds the test world in a throw-away SQLite file, registers 600 residents, records 50 warm-up
doses and then times ``POST /api/v1/doses`` for 500 first doses through Django's test client
with a vaccinator's bearer token: authentication, the request guard, the dose service (person
lock, history, eligibility, lot, counters by site and by residence, audit) and the JSON answer.
Reported: process CPU milliseconds per dose (``time.process_time``), which holds better than
wall time on a shared machine. ``--profile`` prints the top functions by cumulative time.

    .venv/bin/python bench/bench_dose_cpu.py [--repeat 3] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    tmp = tempfile.mkdtemp(prefix="vaxops-dose-cpu-")
    os.environ.update(DJANGO_SETTINGS_MODULE="vaxops.settings", VAXOPS_DEMO="1", VAXOPS_FAST_HASHER="1",
                      VAXOPS_DATABASE_URL=f"sqlite:///{tmp}/bench.sqlite3")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    from conftest import build_world
    from vaxops.registry.idnumber import make_id_number
    from vaxops.registry.services import register_person

    settings.ALLOWED_HOSTS = ["*"]
    call_command("migrate", verbosity=0)
    world = build_world()
    client = Client()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {world.tokens['vaccinator']}"}
    now = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).replace(microsecond=0)
    results = []
    for run in range(args.repeat):
        people = [
            register_person(
                id_number=make_id_number("513301", dt.date(1950, 1, 1) + dt.timedelta(days=run * 600 + i), 101 + i % 400),
                name="张三", division_code="513301001", acting_user=world.users["admin"], source="cli",
            ).pk
            for i in range(550)
        ]

        def post(person_id: int) -> None:
            body = {"client_uuid": str(uuid.uuid4()), "person_id": person_id, "product": "BIBP",
                    "lot_number": "B2021001", "site_code": "KD-MASS", "administered_at": now.isoformat()}
            r = client.post("/api/v1/doses", json.dumps(body), content_type="application/json", **headers)
            assert r.status_code == 201, r.content

        for person_id in people[:50]:
            post(person_id)
        profile = cProfile.Profile()
        started = time.process_time()
        if args.profile:
            profile.enable()
        for person_id in people[50:]:
            post(person_id)
        profile.disable()
        results.append((time.process_time() - started) / 500 * 1000)
        print(f"run {run + 1}: {results[-1]:.2f} ms CPU per dose")
        if args.profile:
            out = io.StringIO()
            pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats("vaxops", 40)
            print(out.getvalue())
    print(f"median {statistics.median(results):.2f} ms CPU per dose over {args.repeat} runs of 500 doses")


if __name__ == "__main__":
    main()
