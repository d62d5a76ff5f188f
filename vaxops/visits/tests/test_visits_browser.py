"""The visit steps in Chromium: a vaccinator checks a person in, screens, records the dose,
waits out the observation (shortened to seconds) and releases, while a second tab on the live
board changes with each step. On a desk screen in zh-Hans and on a 390 px phone in English.
Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import build_world, make_person
from vaxops.sites.models import Session
from vaxops.web.tests.test_browser import log_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
CST = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server, settings):
    # Three seconds of observation, so the release button unlocks while the test watches.
    settings.VAXOPS_OBSERVATION_MINUTES = 0.05
    w = build_world()
    w.people["visitor"] = make_person(w, seq=611, name="王五")
    today = dt.datetime.now(CST).date()
    w.people["session"] = Session.objects.create(site=w.sites["KD-MASS"], date=today, status="open",
                                                 opens_at=dt.time(0), closes_at=dt.time(23, 59))
    return w


def count(page, testid: str) -> str:
    return page.locator(f'[data-testid="{testid}"]').first.inner_text().strip()


@pytest.mark.parametrize(("viewport", "language", "name"), [
    ({"width": 1280, "height": 900}, "zh-hans", "desk-zh"),
    ({"width": 390, "height": 844}, "en", "phone-en"),
])
def test_a_visit_through_every_step_moves_the_board(chromium, world, live_server, viewport, language, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    session = world.people["session"]
    context = chromium.new_context(viewport=viewport)
    context.add_cookies([{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    desk = context.new_page()
    errors: list[str] = []
    desk.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(desk, base, "vaccinator")
    board = context.new_page()
    board.goto(f"{base}/visits/sessions/{session.pk}/board/")
    assert count(board, "waiting-count") == "0"

    desk.goto(f"{base}/visits/sessions/{session.pk}/desk/")
    desk.fill('[data-testid="id-number"]', world.people["visitor"].id_number)
    desk.click('[data-testid="check-in"]')
    desk.wait_for_selector('[data-testid="done"]')
    assert "1" in count(desk, "done")
    assert desk.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    board.wait_for_function("() => document.querySelector('[data-testid=waiting-count]').textContent.trim() === '1'",
                            timeout=15000)

    desk.locator('[data-testid="waiting"] [data-testid="screen-pass"]').first.click()
    desk.wait_for_selector('[data-testid="screened"] [data-testid="vaccinate"]')
    board.wait_for_function(
        "() => document.querySelector('[data-testid=screening-count]').textContent.trim() === '1'", timeout=15000)
    desk.screenshot(path=str(SCREENSHOTS / f"visits-{name}-screened.png"), full_page=True)

    desk.click('[data-testid="screened"] [data-testid="vaccinate"]')
    desk.wait_for_selector('[data-testid="observing"] [data-testid="release"]')
    desk.screenshot(path=str(SCREENSHOTS / f"visits-{name}-observation.png"), full_page=True)
    board.wait_for_function(
        "() => document.querySelector('[data-testid=observation-count]').textContent.trim() === '1'", timeout=15000)
    # The release button stays locked until the observation has passed, then unlocks by itself.
    desk.wait_for_function("() => !document.querySelector('[data-testid=release]').disabled", timeout=15000)
    desk.click('[data-testid="release"]')
    desk.wait_for_selector('[data-testid="finished"]')
    board.wait_for_function(
        "() => document.querySelector('[data-testid=released-count]').textContent.trim() === '1'", timeout=15000)
    assert count(board, "observation-count") == "0" and count(board, "vaccinated-count") == "1"
    board.screenshot(path=str(SCREENSHOTS / f"visits-board-{name}.png"), full_page=True)
    assert board.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    assert not errors, errors
    context.close()
