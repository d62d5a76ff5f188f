"""The targets page, the dashboard panel and the key-group pages as a user sees them."""

from __future__ import annotations

import pytest

from conftest import make_person
from vaxops.keygroups.models import Membership
from vaxops.targets.services import set_target

pytestmark = pytest.mark.django_db


def login(client, world, role):
    client.force_login(world.users[role])
    return client


def test_the_dashboard_and_the_targets_page_show_a_childs_target(client, world):
    set_target(division_code="513301", metric="first_dose_people", base="18+", value=100, due="2021-06-30",
               starts="2021-03-22", acting_user=world.users["prefecture_command"], source="cli")
    c = login(client, world, "prefecture_command")
    page = c.get("/targets/?division=513300&at=2021-06-01T19:00").content.decode()
    assert "child-targets" in page and ("康定市" in page or "Kangding" in page)
    dash = c.get("/?division=513300&at=2021-06-01T19:00").content.decode()
    assert 'data-testid="targets-panel"' in dash


def test_the_level_above_sets_a_target_on_the_page(client, world):
    c = login(client, world, "county_command")
    r = c.post("/targets/?division=513301", {"parent": "513301", "division": "513301001", "metric": "doses",
                                              "base": "all", "kind": "count", "value": "50", "due": "2021-06-30",
                                              "starts": "2021-05-01"})
    assert r.status_code == 302
    page = c.get("/targets/?division=513301").content.decode()
    assert "child-targets" in page


def test_members_are_added_on_the_page_and_listed_until_vaccinated(client, world):
    person = make_person(world, seq=611, name="卓玛")
    c = login(client, world, "township_organiser")
    r = c.post("/key-groups/add/", {"id_number": person.id_number, "group": "teachers", "unit": ""})
    assert r.status_code == 302 and Membership.objects.filter(person=person).exists()
    page = c.get("/key-groups/").content.decode()
    assert 'data-testid="not-vaccinated"' in page and "卓玛" in page


def test_a_grid_worker_may_not_add_members(client, world):
    assert login(client, world, "grid_worker").get("/key-groups/add/").status_code == 403
