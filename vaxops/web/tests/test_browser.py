"""The pages in a real browser (Chromium through Playwright): log in and see the dashboard.
The site desk's browser tests are in vaxops/vaccination/tests/test_desk_browser.py.
Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings

from conftest import build_world, make_person
from vaxops.vaccination.services import record_dose

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# ordinary synchronous code that Django would otherwise refuse to run there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("VAXOPS_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run", "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.fixture(scope="module")
def chromium() -> Iterator:
    if not Path(CHROMIUM).exists():
        reason = f"Chromium not found at {CHROMIUM}: install Debian's chromium to run the browser tests"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    # serialized_rollback brings back the product catalogue (loaded by a data migration), which
    # an earlier transactional test's flush removed.
    return build_world()


def seed_campaign(world) -> None:
    """A few weeks of doses across both counties, so the charts have something to show."""
    sites = [("KD-MASS", "vaccinator", "513301"), ("LD-MASS", "vaccinator_ld", "513322")]
    start = dt.datetime(2021, 5, 10, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for i in range(36):
        site, user, county = sites[1 if i % 3 == 0 else 0]
        person = make_person(world, seq=400 + i, name=f"Resident {i}", county=county,
                             born=dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 27))
        record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                    site_code=site, administered_at=start + dt.timedelta(days=i % 14, minutes=i),
                    acting_user=world.users[user], source="cli")


def figure(page, testid: str) -> int:
    text = page.locator(f'[data-testid="{testid}"] .figure-value').inner_text()
    return int(text.replace(",", ""))


def focused(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.textContent.trim())")


def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/login/")
    page.keyboard.type(username)  # the user name field has the focus
    page.keyboard.press("Tab")
    page.keyboard.type("pw-" + username)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")


def english_context(chromium, base: str, viewport: dict):
    """A browser context that has chosen English with the language switch (pages default to zh-Hans)."""
    context = chromium.new_context(locale="en-US", viewport=viewport)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    return context


def test_prefecture_dashboard_draws_its_charts(chromium, world, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seed_campaign(world)
    context = english_context(chromium, live_server.url, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url, "prefecture_command")
    page.goto(live_server.url + "/?at=2021-06-01T19:00")
    assert figure(page, "doses-total") == 36
    assert page.locator('[data-testid="report-sentence"]').inner_text().startswith(
        "As of 19:00 on 1 June, the prefecture had given 36 doses"
    )
    # ECharts drew both charts (SVG renderer) from the page's own data.
    page.wait_for_selector("#coverage-chart svg")
    page.wait_for_selector("#daily-chart svg")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-prefecture.png"), full_page=True)

    # A tablet in portrait: the same page still fits.
    page.set_viewport_size({"width": 768, "height": 1024})
    page.wait_for_timeout(200)
    assert page.evaluate("document.documentElement.scrollWidth") <= 768
    page.screenshot(path=str(SCREENSHOTS / "dashboard-tablet.png"), full_page=True)
    assert errors == []
    context.close()
