"""Twenty devices syncing overlapping batches at once (PostgreSQL: real parallel transactions).

Each thread has its own connection and its own API client; the batches overlap so that most
submissions arrive from several devices at the same moment. Exactly one record per client_uuid,
every item answered created or replayed, and the counters agree with a rebuild.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from django.db import connection
from django.test import Client

from conftest import build_world, make_person, threaded
from vaxops.access.services import create_user
from vaxops.campaign.services import counter_snapshot, rebuild_counters
from vaxops.vaccination.models import DoseConflict, DoseRecord

THREADS = 20
PER_BATCH = 6
STEP = 2  # batch i holds submissions i*STEP … i*STEP+PER_BATCH-1: each shared by three devices


def devices_and_submissions(count: int):
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is tested on PostgreSQL")
    world = build_world()
    tokens = [world.tokens["vaccinator"], world.tokens["site_manager"]]
    for name in ("tablet", "phone"):
        tokens.append(create_user(username=name, role="vaccinator", scope="KD-MASS", with_token=True,
                                  source="cli")[1])
    people = [make_person(world, seq=100 + i, name="同步" + chr(0x4E00 + i)) for i in range(count)]
    at = dt.datetime(2021, 5, 10, 10, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    submissions = [
        {"client_uuid": str(uuid.uuid4()), "person_id": p.pk, "product": "BIBP", "lot_number": "B2021001",
         "site_code": "KD-MASS", "administered_at": (at + dt.timedelta(minutes=i)).isoformat()}
        for i, p in enumerate(people)
    ]
    return tokens, submissions


def test_twenty_devices_syncing_overlapping_batches_record_one_dose_per_submission(transactional_db):
    tokens, submissions = devices_and_submissions((THREADS - 1) * STEP + PER_BATCH)
    def device(i: int) -> tuple:
        batch = submissions[i * STEP:i * STEP + PER_BATCH]
        r = Client().post("/api/v1/doses/batch", {"items": batch}, content_type="application/json",
                          HTTP_AUTHORIZATION=f"Bearer {tokens[i % len(tokens)]}")
        return batch, r.status_code, r.json()

    started = time.monotonic()
    answers = threaded(device, THREADS)
    assert time.monotonic() - started < 120
    ids: dict[str, set[int]] = {}
    for answer in answers:
        assert isinstance(answer, tuple), answer
        batch, status, body = answer
        assert status == 200, body
        results = body["results"]
        assert [r["client_uuid"] for r in results] == [s["client_uuid"] for s in batch]
        assert {r["status"] for r in results} <= {"created", "replayed"}, results
        for r in results:
            ids.setdefault(r["client_uuid"], set()).add(r["id"])
    assert set(ids) == {s["client_uuid"] for s in submissions}
    assert all(len(v) == 1 for v in ids.values()), ids
    assert DoseRecord.objects.count() == len(submissions)
    assert DoseRecord.objects.values("client_uuid").distinct().count() == len(submissions)
    assert DoseConflict.objects.count() == 0
    live = counter_snapshot()
    rebuild_counters()
    assert counter_snapshot() == live and sum(live.values()) == len(submissions)


def test_devices_racing_for_one_persons_dose_store_each_conflict_once(transactional_db):
    """Ten devices each send their own dose 1 for the same person, twice over, at once: one is
    recorded, every other device's submission becomes one conflict (or its own refusal)."""
    tokens, submissions = devices_and_submissions(1)
    person_id = submissions[0]["person_id"]
    mine = [{**submissions[0], "client_uuid": str(uuid.uuid4())} for _ in range(len(tokens))]
    def device(i: int) -> tuple:
        r = Client().post("/api/v1/doses/batch", {"items": [mine[i % len(tokens)]]},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {tokens[i % len(tokens)]}")
        return r.status_code, r.json()

    answers = threaded(device, THREADS)
    assert all(isinstance(a, tuple) and a[0] == 200 for a in answers), answers
    assert DoseRecord.objects.filter(person_id=person_id).count() == 1
    winner = DoseRecord.objects.get(person_id=person_id)
    losers = {s["client_uuid"] for s in mine} - {str(winner.client_uuid)}
    # Every losing submission of another user is one conflict, however often it was sent.
    assert set(DoseConflict.objects.values_list("client_uuid", flat=True).distinct()) <= {uuid.UUID(u) for u in losers}
    assert DoseConflict.objects.count() == DoseConflict.objects.values("client_uuid").distinct().count()
    assert DoseConflict.objects.count() == len(losers)
