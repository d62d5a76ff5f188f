"""Lifting a deferral at the desk, in a real browser: the site manager finds a resident whom a
grid worker recorded as permanently contraindicated, reads the deferral on the card, lifts it
with a written reason, and the verdict reads eligible. Screenshots go to var/screenshots/."""

from __future__ import annotations

import os
import uuid

import pytest
from django.utils import timezone

from conftest import build_world, make_person
from vaxops.registry.models import Deferral
from vaxops.vaccination.tests.test_desk_browser import SCREENSHOTS, open_desk

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser
ON_CHOICE = "() => document.activeElement && document.activeElement.name === 'product'"


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


@pytest.mark.parametrize("language, width", [("en", 1280), ("zh-hans", 390)])
def test_the_site_manager_lifts_a_contraindication_at_the_desk(chromium, world, live_server, language, width):
    from vaxops.outreach.services import record_contact

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    p = make_person(world, seq=940, name="Dawa" if language == "en" else "达瓦", phone="13900000940")
    record_contact(client_uuid=uuid.uuid4(), person_id=p.pk, channel="visit", outcome="contraindicated",
                   reason="allergy", at=timezone.now(), acting_user=world.users["grid_worker"], source="cli")
    context, page, errors = open_desk(chromium, live_server.url, "site_manager", language=language, width=width)
    page.keyboard.type(p.id_number)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="product-choice"]')
    page.wait_for_function(ON_CHOICE)
    page.keyboard.press("1")
    page.wait_for_selector('[data-testid="verdict"][data-status="refused"]')
    assert page.locator('[data-testid="deferral"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / f"desk-deferral-{language}-{width}.png"), full_page=True)

    # Without a reason the browser keeps the form; with one, the deferral is lifted.
    page.fill('[data-testid="lift-form"] input[name="reason"]', "过敏史核实为误记")
    page.click('[data-testid="lift"]')
    page.wait_for_selector('[data-testid="card-message"]')
    assert page.locator('[data-testid="deferral"]').count() == 0
    page.wait_for_function(ON_CHOICE)
    page.keyboard.press("1")
    page.wait_for_selector('[data-testid="verdict"][data-status="eligible"]')
    assert Deferral.objects.get(person=p).lifted_by == world.users["site_manager"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width + 1
    page.screenshot(path=str(SCREENSHOTS / f"desk-deferral-lifted-{language}-{width}.png"), full_page=True)
    context.close()
    assert errors == []


def test_a_vaccinator_reads_the_deferral_but_cannot_lift_it(chromium, world, live_server):
    from vaxops.registry.services import defer_person

    p = make_person(world, seq=942, name="Lhamo")
    defer_person(person_id=p.pk, code="neurological", since=timezone.localdate(), acting_user=world.users["admin"],
                 source="cli")
    context, page, errors = open_desk(chromium, live_server.url, "vaccinator")
    page.keyboard.type(p.id_number)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="deferrals"]')
    assert page.locator('[data-testid="lift-form"]').count() == 0
    assert "Only the site manager" in page.locator('[data-testid="deferrals"]').inner_text()
    context.close()
    assert errors == []
