"""Approving one allocation from many processes at once (PostgreSQL row locks): it is approved
once, its transfers exist once, and the ledger reconciles."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from conftest import build_world, make_person
from vaxops.supply.allocations import approve_allocation, propose_allocation
from vaxops.supply.models import Transfer
from vaxops.supply.reconcile import check_stock
from vaxops.supply.tests.test_allocations_api import empty
from vaxops.supply.tests.test_ledger_concurrency import run_in_threads

pytestmark = pytest.mark.skipif("postgres" not in __import__("os").environ.get("VAXOPS_DATABASE_URL", ""),
                                reason="row locks under parallel transactions: PostgreSQL only")


@pytest.fixture
def world(transactional_db):
    return build_world()


def test_twenty_concurrent_approvals_dispatch_once(world):
    assert connection.vendor == "postgresql"
    for n in (501, 503, 505):
        make_person(world, seq=n)
    make_person(world, seq=507, division="513301")
    empty(world, "KD-MASS", "KD-THC")
    allocation = propose_allocation(from_store_code="KD-CDC", supply={"BIBP": 4}, default_capacity=10,
                                    acting_user=world.users["county_command"], source="api",
                                    today=dt.date(2021, 6, 1))
    results = run_in_threads(lambda i: approve_allocation(
        allocation_id=allocation.pk, acting_user=world.users["county_command"], source="api"))
    approved = [r for r in results if isinstance(r, list)]
    assert len(approved) == 1, results
    assert sorted(r for r in results if not isinstance(r, list)) == ["allocation_not_proposed"] * 19
    assert Transfer.objects.filter(allocation=allocation).count() == len(approved[0]) == 2
    assert check_stock().clean
