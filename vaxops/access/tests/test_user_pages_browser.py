"""The user-management pages in Chromium, on a desk computer and a 390 px phone, both languages.
Screenshots go to var/screenshots/."""

from __future__ import annotations

import os

import pytest

from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in, world  # noqa: F401

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser


@pytest.mark.parametrize(("language", "viewport"), [("en", {"width": 1280, "height": 900}),
                                                     ("zh", {"width": 390, "height": 844})])
def test_county_command_creates_a_user_and_sees_the_token_once(chromium, world, live_server, language,  # noqa: F811
                                                              viewport):
    base = live_server.url
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = english_context(chromium, base, viewport) if language == "en" else chromium.new_context(
        locale="zh-CN", viewport=viewport)
    page = context.new_page()
    log_in(page, base, "county_command")
    page.locator('a[href="/users/"]').first.click()
    page.wait_for_url(base + "/users/")
    # Nothing on the phone is wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    page.screenshot(path=str(SCREENSHOTS / f"users-list-{language}.png"), full_page=True)
    page.click('[data-testid="new-user"]')
    page.fill("#id_username", f"kd-vacc-{language}")
    page.fill("#id_password", "Yak-butter-tea-2021")
    page.select_option("#id_role", "vaccinator")
    page.select_option("#id_scope", "KD-MASS")
    page.check("#id_with_token")
    page.screenshot(path=str(SCREENSHOTS / f"users-new-{language}.png"), full_page=True)
    page.locator("form.stack button[type=submit]").click()
    token = page.locator('[data-testid="new-token"] code').inner_text()
    assert token.startswith("vx_")
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"] + 1
    page.screenshot(path=str(SCREENSHOTS / f"users-token-{language}.png"), full_page=True)
    page.reload()  # a GET of the same user: the token is not shown again
    page.goto(page.url if "/users/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
              else base + "/users/")
    assert token not in page.content()
    context.close()


def test_the_desk_403_page_advises_a_supply_officer(chromium, world, live_server):  # noqa: F811
    base = live_server.url
    context = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = context.new_page()
    log_in(page, base, "supply_officer")
    page.goto(base + "/desk/")
    assert "批号" in page.locator('[data-testid="advice"]').inner_text()
    page.screenshot(path=str(SCREENSHOTS / "forbidden-supply-officer-zh.png"), full_page=True)
    context.close()
