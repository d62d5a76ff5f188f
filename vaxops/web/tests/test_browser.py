"""The pages in a real browser (Chromium through Playwright): log in, record doses at the desk
with the keyboard alone, and see the dashboard count them. Screenshots go to var/screenshots/.
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
from vaxops.registry.idnumber import make_id_number
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
NEW_ID = make_id_number("513301", dt.date(1990, 7, 21), 37)


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
        person = make_person(world, seq=400 + i, name=f"Resident {chr(65 + i % 26)}{chr(97 + i // 26)}", county=county,
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


def test_vaccinator_records_doses_with_the_keyboard_and_the_dashboard_counts_them(chromium, world, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    known = make_person(world, seq=88, name="Wang Fang", born=dt.date(1975, 2, 14))
    base = live_server.url
    context = english_context(chromium, live_server.url, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    log_in(page, base, "vaccinator")
    assert page.locator("html").get_attribute("lang") == "en"
    assert figure(page, "doses-total") == 0

    page.goto(base + "/desk/")
    assert focused(page) == "id_id_number"

    # A new person: type the ID, Enter; the registration form takes the focus.
    page.keyboard.type(NEW_ID)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="register"]')
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_name'")
    page.keyboard.type("Zhao Liu")
    page.keyboard.press("Tab")
    page.keyboard.type("13800138000")
    page.keyboard.press("Enter")

    # The card: full ID, verdict, the first-expiring lot chosen; the record button has the focus.
    page.wait_for_selector('[data-testid="person-card"]')
    assert page.locator('[data-testid="full-id"]').inner_text() == NEW_ID
    assert page.locator('[data-testid="verdict"]').get_attribute("data-status") == "eligible"
    page.wait_for_function("document.activeElement && document.activeElement.type === 'submit'")
    assert focused(page).startswith("Record dose 1")
    page.screenshot(path=str(SCREENSHOTS / "desk-card.png"), full_page=True)
    page.keyboard.press("Enter")

    page.wait_for_selector('[data-testid="confirmation"]')
    assert "Dose 1 recorded for Zhao Liu." in page.locator('[data-testid="confirmation"]').inner_text()
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_id_number'")

    # The next person is already registered: ID, Enter, Enter.
    page.keyboard.type(known.id_number)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="person-card"]')
    page.wait_for_function("document.activeElement && document.activeElement.type === 'submit'")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="confirmation"]')
    assert "Wang Fang" in page.locator('[data-testid="confirmation"]').inner_text()
    page.screenshot(path=str(SCREENSHOTS / "desk-confirmation.png"), full_page=True)

    # A mistyped ID: the reason appears next to the field, the focus stays there.
    page.keyboard.type(NEW_ID[:-1] + ("1" if NEW_ID[-1] != "1" else "2"))
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="id-error"]')
    assert "last character should be" in page.locator('[data-testid="id-error"]').inner_text()
    assert focused(page) == "id_id_number" or page.locator("#id_id_number").count() == 1

    page.goto(base + "/")
    assert figure(page, "doses-total") == 2
    assert figure(page, "first-dose") == 2
    page.screenshot(path=str(SCREENSHOTS / "dashboard-vaccinator.png"), full_page=True)
    assert errors == []
    context.close()


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


def test_site_manager_overrides_a_deferral_with_the_keyboard(chromium, world, live_server):
    from django.utils import timezone

    from vaxops.registry.models import Deferral

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    person = make_person(world, seq=77, name="Li Na", born=dt.date(1982, 9, 3))
    today = timezone.localdate()
    Deferral.objects.create(person=person, code="acute_illness", since=today - dt.timedelta(days=1),
                            until=today + dt.timedelta(days=2))
    context = english_context(chromium, live_server.url, {"width": 1024, "height": 900})
    page = context.new_page()
    log_in(page, live_server.url, "site_manager")
    page.goto(live_server.url + "/desk/")
    page.keyboard.type(person.id_number)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="verdict"][data-status="not_yet"]')
    # The override box takes the focus; Tab reaches the record button, Enter records.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'id_override_reason'")
    page.keyboard.type("Fever gone; examined by the site doctor.")
    page.screenshot(path=str(SCREENSHOTS / "desk-override.png"), full_page=True)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="confirmation"]')
    assert "Dose 1 recorded for Li Na." in page.locator('[data-testid="confirmation"]').inner_text()
    context.close()
