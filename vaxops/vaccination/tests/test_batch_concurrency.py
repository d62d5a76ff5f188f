"""Twenty devices sending overlapping batches at once (PostgreSQL: real parallel transactions,
each thread its own connection): exactly one record per submission, every item answered."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter

import pytest
from django.db import connection

from conftest import build_world, make_person, threaded
from vaxops.vaccination.batch import DoseItem, record_doses
from vaxops.vaccination.models import DoseRecord

THREADS = 20
PEOPLE = 12
AT = dt.datetime.fromisoformat("2021-05-10T10:00:00+08:00")


@pytest.fixture
def setup(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("row locks and parallel writers: PostgreSQL (SQLite serialises every write transaction)")
    world = build_world()
    return world, [make_person(world, seq=500 + i, born=dt.date(1970, 1, 1) + dt.timedelta(days=i))
                   for i in range(PEOPLE)]


def test_twenty_devices_sending_overlapping_batches_record_each_submission_once(setup):
    world, people = setup
    # Per person two submissions of a first dose on the same day (two devices' entries of one
    # dose): only one of them may be recorded, the other is dose_already_recorded.
    items = {}
    for p in people:
        for j in range(2):
            key = uuid.uuid4()
            items[key] = DoseItem(client_uuid=key, person_id=p.pk, product_code="BIBP", lot_number="B2021001",
                                  site_code="KD-MASS", administered_at=AT + dt.timedelta(minutes=j))
    keys = list(items)
    def device(i: int) -> list:
        # Overlapping windows in a thread-specific order (some reversed), so batches cross.
        mine = [keys[(i * 3 + k) % len(keys)] for k in range(10)]
        if i % 2:
            mine.reverse()
        return record_doses([items[k] for k in mine], acting_user=world.users["vaccinator"], source="api")

    results = threaded(device, THREADS)
    assert all(isinstance(r, list) for r in results), results
    answers = [o for r in results for o in r]
    assert all(o.status in ("created", "replayed", "rejected") for o in answers)
    created = Counter(o.client_uuid for o in answers if o.status == "created")
    assert set(created.values()) == {1}, created
    stored = {d.client_uuid: d for d in DoseRecord.objects.all()}
    assert set(stored) == set(created)
    assert Counter(d.person_id for d in stored.values()) == Counter({p.pk: 1 for p in people})
    for o in answers:
        if o.client_uuid in stored:  # recorded: answered created once, then replayed with the record
            assert o.status in ("created", "replayed") and o.record.pk == stored[o.client_uuid].pk, o
        else:  # the other entry of a dose recorded under its twin's submission
            assert (o.status, o.code) == ("rejected", "dose_already_recorded"), o


def test_twenty_devices_taking_the_last_doses_of_a_lot_never_take_more_than_there_is(setup):
    """The balance is read without a lock and locked after the decisions: whoever finds it moved
    decides again, so 20 devices wanting 12 doses of a lot with 5 on hand get exactly 5."""
    from conftest import stock
    from vaxops.catalog.models import Product
    from vaxops.supply.models import Lot, StockBalance

    world, people = setup
    lot = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number="B2021LAST",
                             expiry_date=dt.date(2030, 1, 1))
    store = stock(world, "KD-MASS", lot, 5)
    def device(i: int):
        item = DoseItem(client_uuid=uuid.uuid4(), person_id=people[i % PEOPLE].pk, product_code="BIBP",
                        lot_number="B2021LAST", site_code="KD-MASS", administered_at=AT)
        return record_doses([item], acting_user=world.users["vaccinator"], source="api")[0]

    results = threaded(device, THREADS)
    assert all(not isinstance(r, Exception) for r in results), results
    created = [o for o in results if o.status == "created"]
    assert len(created) == 5
    assert {o.code for o in results if o.status == "rejected"} <= {"insufficient_stock", "dose_already_recorded"}
    assert StockBalance.objects.get(store=store, lot=lot).on_hand == 0
    assert DoseRecord.objects.filter(lot=lot).count() == 5
