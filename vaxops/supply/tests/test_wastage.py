"""Usage and wastage rates, the wastage factor (WHO formulas), and their sums from the ledger."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from hypothesis import given
from hypothesis import strategies as st

from conftest import make_person
from vaxops.supply import ledger
from vaxops.supply.wastage import usage_rate, wastage, wastage_factor, wastage_rate
from vaxops.vaccination.batch import DoseItem, record_doses

counts = st.integers(min_value=0, max_value=10**7)


def test_ten_percent_wastage_is_a_factor_of_1_11():
    assert wastage_rate(90, 100) == pytest.approx(10)
    assert wastage_factor(10) == pytest.approx(1.111, abs=1e-3)


def test_nothing_issued_has_no_rates():
    assert usage_rate(0, 0) is None and wastage_rate(0, 0) is None and wastage_factor(None) is None


def test_everything_wasted_has_no_factor():
    assert wastage_rate(0, 40) == 100 and wastage_factor(100) is None


@given(administered=counts, wasted=counts)
def test_usage_and_wastage_add_up_to_100_and_the_factor_covers_the_doses_given(administered, wasted):
    issued = administered + wasted
    usage, waste = usage_rate(administered, issued), wastage_rate(administered, issued)
    if issued == 0:
        assert usage is None and waste is None
        return
    assert 0 <= usage <= 100 and usage + waste == pytest.approx(100)
    factor = wastage_factor(waste)
    if administered == 0:
        assert factor is None
    else:
        # The factor is the doses to supply per dose given: issued ÷ administered.
        assert factor == pytest.approx(issued / administered, rel=1e-9)
        assert factor >= 1


@given(wasted_percent=st.floats(min_value=0, max_value=99.9))
def test_more_wastage_never_needs_fewer_doses(wasted_percent):
    assert wastage_factor(wasted_percent) <= wastage_factor(min(wasted_percent + 0.05, 99.95)) + 1e-12


@pytest.mark.django_db
def test_the_rates_per_site_county_and_product_come_from_the_ledger(world):
    people = [make_person(world, seq=600 + i) for i in range(9)]
    at = dt.datetime(2021, 5, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    record_doses([DoseItem(client_uuid=uuid.uuid4(), product_code="BIBP", lot_number="B2021001",
                           site_code="KD-MASS", administered_at=at, person_id=p.pk) for p in people],
                 acting_user=world.users["vaccinator"], source="api")
    with transaction.atomic():
        ledger.post([ledger.Line(world.stores["KD-MASS"].pk, world.lots["bibp"].pk, -1, "broken")],
                    reason="broken", user=None, occurred_at=at)
    [site] = [w for w in wastage("site") if w.key == "KD-MASS"]
    assert (site.administered, site.wasted, site.issued) == (9, 1, 10)
    assert site.as_dict()["wastage_rate"] == 10.0 and site.as_dict()["wastage_factor"] == 1.111
    assert [(w.key, w.administered, w.wasted) for w in wastage("county")] == [("513301", 9, 1)]
    assert [(w.key, w.issued) for w in wastage("product")] == [("BIBP", 10)]
