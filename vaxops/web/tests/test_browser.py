"""Shared browser fixtures (Chromium through Playwright) and the shell in a real browser.
The dashboard's and the desk's browser tests are in their apps (campaign, vaccination).
Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from conftest import build_world

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# ordinary synchronous code that Django would otherwise refuse to run there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"




@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    # serialized_rollback brings back the product catalogue (loaded by a data migration), which
    # an earlier transactional test's flush removed.
    return build_world()








def log_in(page, base: str, username: str) -> None:
    page.goto(base + "/login/")
    # The user name field has the focus: Chromium applies autofocus at its next rendering step, which
    # on a loaded machine can come after "load"; typing before it lost the first keys.
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'username'")
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type("pw-" + username)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")


def english_context(chromium, base: str, viewport: dict):
    """A browser context that has chosen English with the language switch (pages default to zh-Hans)."""
    context = chromium.new_context(locale="en-US", viewport=viewport)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    return context



def test_log_in_and_out_in_english(chromium, world, live_server):
    context = english_context(chromium, live_server.url, {"width": 390, "height": 800})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, live_server.url, "county_command")
    assert page.locator("html").get_attribute("lang") == "en"
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(live_server.url + "/login/")
    assert errors == []
    context.close()
