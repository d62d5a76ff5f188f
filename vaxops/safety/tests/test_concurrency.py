"""Two serious similar reports at one site committing together, on PostgreSQL: the second waits
for the first's site lock, so it sees the first and the cluster opens (neither misses it)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from conftest import build_world
from vaxops.safety.models import AefiCluster, AefiReport
from vaxops.safety.services import report_aefi
from vaxops.safety.tests.helpers import dose, report_args

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks are PostgreSQL's")


@pytest.fixture
def world(transactional_db):
    return build_world()


@pytest.mark.parametrize("round_", range(3))
def test_two_serious_reports_at_once_open_one_cluster(world, round_):
    doses = [dose(world), dose(world, lot="C2021001")]
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def report(d):
        try:
            start.wait(10)
            report_aefi(**report_args(d, events=["anaphylaxis"], serious=True, serious_criteria=["life_threatening"]),
                        acting_user=world.users["vaccinator"])
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=report, args=(d,)) for d in doses]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert failures == []
    assert AefiCluster.objects.count() == 1
    assert AefiReport.objects.filter(cluster__isnull=False).count() == 2
