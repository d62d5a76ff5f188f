"""The standby page in a real browser (Chromium through Playwright): offer the leftover doses
and confirm a caller on a desk screen in English; the same page on a 390 px phone in Chinese.
Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from conftest import build_world
from vaxops.standby import services
from vaxops.standby.tests.helpers import give, multi_dose_lot, open_session, people
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def seed(world):
    from vaxops.campaign.services import TZ

    multi_dose_lot(world)
    session = open_session(world, day=timezone.now().astimezone(TZ).date())
    for i, p in enumerate(people(world, 3, start=950)):
        give(world, p, timezone.now() - dt.timedelta(minutes=30 - i))
    for p in people(world, 5):
        services.sign_up(session, p, acting_user=world.users["vaccinator"])
    return session


def test_offer_leftover_doses_and_confirm_a_caller(chromium, world, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    session = seed(world)
    base = live_server.url
    context = english_context(chromium, base, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "site_manager")
    page.goto(f"{base}/standby/sessions/{session.pk}/")
    assert page.locator('[data-testid="leftover"]').inner_text() == "2"
    assert page.locator('[data-testid="entries"] > li').count() == 5
    page.get_by_role("button", name="Offer leftover doses now").click()
    page.wait_for_selector('[data-testid="offers"]')
    assert page.locator('[data-testid="offers"] > li').count() == 4
    assert "minutes left" in page.locator('[data-testid="time-left"]').first.inner_text()
    page.locator('[data-testid="confirm"]').first.click()
    page.wait_for_selector('[data-testid="messages"]')
    assert page.locator('[data-testid="confirmed"]').inner_text() == "1"
    page.screenshot(path=str(SCREENSHOTS / "standby-desk.png"), full_page=True)
    context.close()

    phone = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "vaccinator")
    page.goto(f"{base}/standby/sessions/{session.pk}/")
    assert "立即通知剩余剂次" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    box = page.locator('[data-testid="confirm"]').first.bounding_box()
    assert box and box["width"] > 250 and box["height"] >= 44  # a full-width touch target
    page.screenshot(path=str(SCREENSHOTS / "standby-phone.png"), full_page=True)
    phone.close()
    assert errors == []
