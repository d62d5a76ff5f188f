"""Two resumes of one interrupted job at the same moment: exactly one runs it."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from conftest import build_world
from vaxops.core.errors import VaxopsError
from vaxops.interop.models import ImportJob
from vaxops.interop.services import claim, create_job
from vaxops.interop.tests.helpers import PEOPLE_HEADER, csv_bytes, person_row


@pytest.mark.django_db(transaction=True)
def test_only_one_of_two_simultaneous_resumes_claims_the_job():
    world = build_world()
    job = create_job("people", csv_bytes(PEOPLE_HEADER, [person_row(1)]), file_name="p.csv",
                     acting_user=world.users["county_command"], source="cli")
    ImportJob.objects.filter(pk=job.pk).update(state="interrupted")
    barrier, results = threading.Barrier(2), []

    def resume() -> None:
        try:
            barrier.wait(timeout=10)
            claim(job.pk)
            results.append("claimed")
        except VaxopsError as exc:
            results.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=resume) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(results) == ["claimed", "import_job_not_resumable"]
    assert ImportJob.objects.get(pk=job.pk).state == "running"
    # Later, from another thread of the same process: the job is running here, not interrupted.
    with pytest.raises(VaxopsError) as exc:
        claim(job.pk)
    assert exc.value.code == "import_job_not_resumable"


def test_a_worker_on_another_machine_is_alive_until_its_heartbeat_is_stale(settings):
    import datetime as dt

    from django.utils import timezone

    from vaxops.interop.services import worker_alive

    settings.VAXOPS_IMPORT_STALE_SECONDS = 900
    now = timezone.now()
    job = ImportJob(pk=1, state="running", worker="4242:abc@another-host", created_at=now,
                    heartbeat_at=now - dt.timedelta(seconds=60))
    assert worker_alive(job)
    job.heartbeat_at = now - dt.timedelta(seconds=1000)
    assert not worker_alive(job)
