"""Killed at any moment, a job resumes and ends as an uninterrupted run would.

The import runs as the real command line (``python -m vaxops.cli import …``) in a child process
against the test database: the SQLite test database is a file (settings: ``test-<pid>.sqlite3``
under VAR_DIR) and PostgreSQL's is ``test_<name>``, both reachable through VAXOPS_DATABASE_URL,
so the test is transactional (committed data, flushed after). The child is killed with SIGKILL
at two seeded random moments (after a seeded number of rows is committed, plus a random few
milliseconds, which lands in and between chunks), then ``vaxops import resume JOB`` continues.
The final people, doses, counters, audit events of the rows and the report must equal those of
an uninterrupted run of the same file on a fresh world.
"""

from __future__ import annotations

import io
import json
import os
import random
import signal
import subprocess
import sys
import time

import pytest
from django.core.management import call_command
from django.db import connection

from conftest import build_world
from vaxops.campaign.models import DoseCounter
from vaxops.core.models import AuditEvent
from vaxops.interop.models import ImportJob, ImportRow
from vaxops.interop.services import mark_interrupted
from vaxops.interop.tests.helpers import DOSE_HEADER, NAMES, csv_bytes, dose_row
from vaxops.registry.models import Person
from vaxops.vaccination.models import DoseRecord

REASON = "paper registers"
CHUNK = 3


def dose_file() -> bytes:
    """People registered on the way, first and second doses, a few bad rows: 24 rows."""
    rows = []
    for seq in range(1, 11):
        rows.append(dose_row(seq, at=f"2021-05-{seq + 1:02d}T09:30:00+08:00") + [NAMES[seq], "513301001"])
    for seq in range(1, 9):
        rows.append(dose_row(seq, at=f"2021-06-{seq + 10:02d}T09:30:00+08:00", dose_number="2")
                    + [NAMES[seq], "513301001"])
    rows += [dose_row(11, lot="B2021Q01") + [NAMES[11], "513301001"], dose_row(1) + ["", ""],
             dose_row(12, site="LD-MASS") + ["", ""], dose_row(13, at="2021-05-10") + ["", ""],
             dose_row(2, at="2021-05-03T09:30:00+08:00") + [NAMES[2], "513301001"],
             dose_row(9, dose_number="3", at="2021-07-01T09:30:00+08:00") + ["", ""]]
    return csv_bytes(DOSE_HEADER + ["name", "division_code"], rows)


def database_url() -> str:
    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{s['NAME']}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def child_env() -> dict[str, str]:
    from django.conf import settings

    return {**os.environ, "DJANGO_SETTINGS_MODULE": "vaxops.settings", "VAXOPS_DEMO": "1",
            "VAXOPS_FAST_HASHER": "1", "VAXOPS_RETROSPECTIVE_HOURS": "24", "VAXOPS_DATABASE_URL": database_url(),
            "VAXOPS_VAR_DIR": str(settings.VAR_DIR), "VAXOPS_CONN_MAX_AGE": "0"}


def vaxops(*args: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "vaxops.cli", "import", *args, "--json", "--no-progress"],
                            env=child_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def snapshot(job_id: int) -> dict:
    job = ImportJob.objects.get(pk=job_id)
    return {
        "people": sorted(Person.objects.values_list("id_number", "name", "phone", "home_division__code", "status")),
        "doses": sorted(
            (d.person.id_number, d.product.code, d.lot.lot_number, d.site.code, d.administered_at.isoformat(),
             d.dose_number, str(d.client_uuid), d.retrospective, d.retrospective_reason, d.vaccinator.username)
            for d in DoseRecord.objects.select_related("person", "product", "lot", "site", "vaccinator")),
        "counters": sorted(DoseCounter.objects.values_list(
            "division__code", "day", "product_code", "dose_number", "kind", "age_band", "priority_group", "count")),
        "events": sorted(
            (action, n) for action in ("person.register", "dose.record")
            for n in [AuditEvent.objects.filter(action=action).count()]),
        "rows": list(ImportRow.objects.filter(job_id=job_id).order_by("row_number")
                     .values_list("row_number", "status", "column", "code")),
        "totals": (job.state, job.rows, job.rows_done, job.created, job.already_present, job.updated, job.rejected),
    }


def wait_rows(job_id_holder: list, proc: subprocess.Popen, target: int, timeout: float = 60) -> None:
    """Until the child has committed ``target`` rows (or ended)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        job = ImportJob.objects.order_by("-pk").values("pk", "rows_done").first()
        if job is not None:
            job_id_holder[:] = [job["pk"]]
            if job["rows_done"] >= target:
                return
        time.sleep(0.003)


@pytest.mark.django_db(transaction=True)
def test_kill_minus_nine_at_random_points_then_resume_equals_an_uninterrupted_run(tmp_path, settings):
    settings.VAXOPS_RETROSPECTIVE_HOURS = 24  # as the children have it: imported doses are late entries
    path = tmp_path / "doses.csv"
    path.write_bytes(dose_file())
    common = ["doses", str(path), "--user", "county_command", "--reason", REASON, "--chunk-size", str(CHUNK)]

    build_world()
    # The reference: the same command, uninterrupted, in this process (one child start less).
    call_command("import", *common, "--json", "--no-progress", stdout=(buffer := io.StringIO()))
    reference = json.loads(buffer.getvalue())
    expected = snapshot(reference["job"])
    assert expected["totals"][0] == "done"
    assert sum(expected["totals"][3:]) == expected["totals"][1] == 24
    assert expected["totals"][3] > 10 and expected["totals"][6] >= 4  # created and rejected rows both

    call_command("flush", interactive=False, verbosity=0)
    build_world()
    rng = random.Random(20211)
    holder: list[int] = []
    proc = vaxops(*common)
    kills = 0
    for _ in range(2):
        wait_rows(holder, proc, rng.randrange(0, 24))
        time.sleep(rng.uniform(0, 0.04))
        if proc.poll() is not None:
            break
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        kills += 1
        assert holder, "the job was never created"
        job = ImportJob.objects.get(pk=holder[0])
        mark_interrupted([job])  # what `vaxops import jobs` and the job page do
        state = job.state
        assert state in ("queued", "interrupted", "done")
        if state == "done":  # killed while printing its answer: nothing left to resume
            proc = None
            break
        proc = vaxops("resume", str(holder[0]))
    if proc is not None:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
    assert kills >= 1
    got = snapshot(holder[0])
    assert got == expected
