"""Under the Content-Security-Policy the pages still work in a real browser: the Swagger UI docs
page renders from the vendored files, and no page logs a policy violation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from conftest import build_world

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"




@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def watched_page(chromium):
    page = chromium.new_page(locale="en-GB")
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    return page, problems


def test_swagger_docs_render_under_the_policy(chromium, world, live_server):
    page, problems = watched_page(chromium)
    page.goto(live_server.url + "/api/v1/docs")
    page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
    page.wait_for_selector(".opblock-tag", timeout=15_000)
    assert "vaxops API" in page.locator(".swagger-ui .info .title").inner_text()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "api-docs.png"))
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.close()


def test_login_desk_and_dashboard_log_no_policy_violation(chromium, world, live_server):
    page, problems = watched_page(chromium)
    page.goto(live_server.url + "/login/")
    page.fill("#id_username", "vaccinator")
    page.fill("#id_password", "pw-vaccinator")
    page.keyboard.press("Enter")
    page.wait_for_url(live_server.url + "/")
    page.wait_for_load_state("networkidle")
    page.goto(live_server.url + "/desk/")
    page.wait_for_load_state("networkidle")
    assert not [p for p in problems if "Content Security Policy" in p], problems
    page.close()
