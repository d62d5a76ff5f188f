"""Pure rules of the report (cut-off hours, the canonical hash) as properties, and issuing the same
report from several threads at once: one is issued, the others refused, nothing half-written."""

from __future__ import annotations

import copy
import json
import random

import pytest
from django.db import connection
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import build_world, threaded
from vaxops.core.errors import VaxopsError
from vaxops.reports.daily import parse_cutoff
from vaxops.reports.services import canonical_hash


@settings(max_examples=300, derandomize=True, deadline=None)
@given(st.text(max_size=8))
def test_a_cutoff_is_hh_mm_from_00_00_to_24_00_and_nothing_else(text):
    valid = (len(text.strip()) == 5 and text.strip()[2] == ":" and text.strip()[:2].isascii()
             and text.strip()[:2].isdigit() and text.strip()[3:].isascii() and text.strip()[3:].isdigit()
             and (int(text.strip()[:2]) < 24 and int(text.strip()[3:]) < 60 or text.strip() == "24:00"))
    if not text.strip():
        assert parse_cutoff(text) == (19, 0)  # empty: the default hour
        return
    try:
        hour, minute = parse_cutoff(text)
    except VaxopsError as exc:
        assert exc.code == "report_invalid_cutoff" and not valid
    else:
        assert valid and f"{hour:02d}:{minute:02d}" == text.strip()


@settings(max_examples=200, derandomize=True, deadline=None)
@given(st.integers(0, 23), st.integers(0, 59))
def test_every_hour_and_minute_of_the_day_is_a_cutoff(hour, minute):
    assert parse_cutoff(f"{hour:02d}:{minute:02d}") == (hour, minute)


documents = st.dictionaries(
    st.text(min_size=1, max_size=5),
    st.recursive(st.one_of(st.none(), st.integers(), st.floats(allow_nan=False, allow_infinity=False),
                           st.text(max_size=5)),
                 lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
                 max_leaves=10),
    max_size=5,
)


@settings(max_examples=100, derandomize=True, deadline=None)
@given(documents, st.randoms(use_true_random=False))
def test_the_hash_ignores_key_order_and_a_json_round_trip_but_not_a_changed_figure(doc, rnd):
    content = {"zh-hans": {**doc, "sha256": None}, "en": {**doc, "sha256": "x"}}
    shuffled = {lang: dict(sorted(d.items(), key=lambda _kv: rnd.random())) for lang, d in content.items()}
    assert canonical_hash(shuffled) == canonical_hash(content) == canonical_hash(json.loads(json.dumps(content)))
    changed = copy.deepcopy(content)
    changed["en"]["__figure__"] = random.Random(1).randint(1, 9)
    assert canonical_hash(changed) != canonical_hash(content)


THREADS = 8


@pytest.mark.skipif("connection.vendor != 'postgresql'", reason="real parallel transactions need PostgreSQL")
def test_the_same_report_issued_at_once_from_several_threads_is_issued_once(transactional_db):
    from vaxops.core.models import AuditEvent
    from vaxops.reports.models import IssuedReport
    from vaxops.reports.services import issue_daily_report
    from vaxops.reports.tests.helpers import DAY, campaign_days

    world = build_world()
    campaign_days(world)
    results = threaded(lambda i: issue_daily_report(division_code="513301", day=DAY,
                                                    acting_user=world.users["county_command"], source="api").sha256,
                       THREADS)
    assert connection.vendor == "postgresql"
    issued = IssuedReport.objects.get()
    assert sorted(r for r in results if r != "report_already_issued") == [issued.sha256], results
    assert results.count("report_already_issued") == THREADS - 1
    assert AuditEvent.objects.filter(action="report.issued").count() == 1
