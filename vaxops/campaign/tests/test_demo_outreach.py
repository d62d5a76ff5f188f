"""The demo's week of outreach at the test scale: contact attempts in a few grids of Kangding's
first street office, their roll-up and the pages the guide names."""

from __future__ import annotations

import pytest

from vaxops.campaign.demo_outreach import WEIGHTS
from vaxops.outreach.models import ContactAttempt

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(demo_built):
    return demo_built


def test_a_week_of_contacts_in_a_few_grids(built):
    figures = built.later["outreach"]
    assert figures["contacts"] == ContactAttempt.objects.count() >= 3
    assert 1 <= len(figures["grids"]) <= 4
    days = {c.at.date() for c in ContactAttempt.objects.all()}
    assert min(days).isoformat() >= "2021-05-25" and max(days).isoformat() <= "2021-06-01"
    assert set(figures["outcomes"]) <= {code for code, _w in WEIGHTS}


def test_the_due_table_equals_a_rebuild_after_the_demo(built):
    from vaxops.outreach.duetable import rebuild
    from vaxops.outreach.models import DueEntry

    live = sorted(DueEntry.objects.values_list())
    rebuild()
    assert sorted(DueEntry.objects.values_list()) == live


def test_the_guide_names_the_outreach_pages_and_they_answer(built, client):
    from django.contrib.auth import get_user_model

    from vaxops.campaign.demo_guide import where_to_look

    rows = [r for r in where_to_look() if r[0].startswith(("outreach", "the printable"))]
    assert len(rows) == 3
    client.force_login(get_user_model().objects.get(username="grid_worker"))
    for _what, path, _login in rows:
        assert client.get(path).status_code == 200, path
