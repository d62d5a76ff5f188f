"""The cold-chain pages in Chromium: a store's temperature chart, and a supervisor reviewing an
excursion with the keyboard alone, on a desk (zh-Hans) and on a phone (English). Screenshots go
to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import math
import os
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from conftest import build_world
from vaxops.supply import coldchain
from vaxops.supply.models import Excursion, Store
from vaxops.web.tests.test_browser import log_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "screenshots"
CST = dt.timezone(dt.timedelta(hours=8))
START = dt.datetime(2021, 5, 8, 0, 0, tzinfo=CST)


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    w = build_world()
    # Three days of a logger every 30 minutes: a fridge around 5 °C that warms to 9–11 °C for
    # 12 hours on the second day (a heat alarm), with the manual morning and afternoon readings.
    logger = []
    for i in range(3 * 48):
        at = START + dt.timedelta(minutes=30 * i)
        warm = 48 + 16 <= i < 48 + 40
        c = 10 + math.sin(i / 3) if warm else 5 + 1.2 * math.sin(i / 7)
        logger.append((at, round(c, 1)))
    coldchain.record_temperatures(store_code="KD-MASS", readings=logger, kind="logger",
                                  acting_user=w.users["site_manager"], source="web")
    manual = [(START + dt.timedelta(days=d, hours=h), 10.2 if (d, h) == (1, 15) else 5.0 + d / 2)
              for d in range(3) for h in (8, 15) if (d, h) != (2, 15)]
    coldchain.record_temperatures(store_code="KD-MASS", readings=manual, kind="manual",
                                  acting_user=w.users["site_manager"], source="web")
    assert Store.objects.get(code="KD-MASS").on_hold
    return w


def _context(chromium, base, viewport, language):
    context = chromium.new_context(viewport=viewport)
    context.add_cookies([{"name": django_settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    return context


@pytest.mark.parametrize(("viewport", "language", "name"), [
    ({"width": 1280, "height": 900}, "zh-hans", "desk-zh"),
    ({"width": 390, "height": 844}, "en", "phone-en"),
])
def test_temperature_chart_and_keyboard_review(chromium, world, live_server, viewport, language, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    context = _context(chromium, base, viewport, language)
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    # Console errors (a CSP refusal shows there) and failed loads, but for the browser's own favicon request.
    page.on("console", lambda m: problems.append(m.text)
            if m.type == "error" and not m.text.startswith("Failed to load resource") else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)

    # The site manager's view of the store: the chart is drawn, nothing overflows the phone.
    log_in(page, base, "site_manager")
    page.goto(base + "/supply/stores/KD-MASS/temperatures/")
    page.wait_for_selector("#temperature-chart svg")
    assert page.locator('[data-testid="on-hold"]').count() == 1
    assert page.locator('[data-testid="excursions"] tbody tr').count() == 1
    assert "10" in page.locator('[data-testid="missing"]').inner_text()  # 10 May has no afternoon reading
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(SCREENSHOTS / f"temperatures-{name}.png"), full_page=True)
    page.get_by_role("button", name="退出" if language == "zh-hans" else "Log out").click()

    # The supervisor reviews it with the keyboard alone: Tab, arrows, typing, Enter.
    log_in(page, base, "supervisor")
    page.click("nav.mainnav a[href='/supply/excursions/']")
    page.wait_for_selector('[data-testid="excursion"]')
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
    page.screenshot(path=str(SCREENSHOTS / f"excursions-{name}.png"), full_page=True)
    card = page.locator('[data-testid="excursion"]').first
    card.locator("h2 a").focus()
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "decision"
    page.keyboard.press("ArrowDown")  # the second choice: release after a VVM check
    assert page.evaluate("document.activeElement.value") == "release_vvm"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.name") == "note"
    page.keyboard.type("VVM 第1阶段，冰箱已修复" if language == "zh-hans" else "VVM stage 1 on every vial; fridge fixed")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="done"]')
    assert page.locator('[data-testid="none"]').count() == 1
    page.screenshot(path=str(SCREENSHOTS / f"excursions-{name}-reviewed.png"), full_page=True)
    e = Excursion.objects.get()
    assert (e.status, e.vvm_checked, e.reviewed_by.username) == ("released", True, "supervisor")
    assert not Store.objects.get(code="KD-MASS").on_hold
    assert problems == []
    context.close()
