"""The lot pages in a real browser (Chromium through Playwright): find a lot by a scanned code,
recall it with the keyboard, read its trace and chart, on a desktop and a 390 px phone.
Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import pytest

from conftest import build_world, make_person
from vaxops.supply.models import Lot, LotStatus
from vaxops.vaccination.services import record_dose
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in  # noqa: F401

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def seed(world) -> None:
    from vaxops.access.services import create_user

    ld = create_user(username="vaccinator_ld2", role="vaccinator", scope="LD-MASS", source="cli")[0]
    at = dt.datetime(2021, 5, 10, 9, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    for i in range(9):
        luding = i % 3 == 0
        person = make_person(world, seq=500 + i, name=["张小三", "李四", "扎西多吉"][i % 3],
                             county="513322" if luding else "513301", phone=f"1380013{8000 + i}")
        record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="LD-MASS" if luding else "KD-MASS", administered_at=at + dt.timedelta(minutes=i),
                    acting_user=ld if luding else world.users["vaccinator"], source="cli")


def test_supervisor_finds_recalls_and_traces_a_lot(chromium, world, live_server):  # noqa: F811
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seed(world)
    world.users["supervisor"].roles.update(division=world.divisions["513300"])  # the prefecture's supervisor
    base = live_server.url
    context = english_context(chromium, base, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "supervisor")
    page.goto(base + "/supply/lots/")
    page.screenshot(path=str(SCREENSHOTS / "lots-list.png"), full_page=True)
    # The search box has the focus: a scanner types the box's GS1 code and Enter.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'lot-q'")
    page.keyboard.type("(01)06901234567892(17)300101(10)B2021001")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/supply/lots/B2021001/")
    page.wait_for_selector("#county-chart svg")
    assert "Kangding" in page.locator("#county-chart").inner_text()
    assert page.locator('[data-testid="administered"]').inner_text() == "9"  # every dose drew its stock
    assert page.locator('[data-testid="recipients"] tbody tr').count() == 9
    page.screenshot(path=str(SCREENSHOTS / "lot-trace.png"), full_page=True)

    # Keyboard only: to the reason, type it, Tab to "Recall the lot", Enter.
    page.locator("#status-reason").focus()
    page.keyboard.type("Manufacturer's notice 2021-17: particles found")
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "action-recall"
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="lot-stopped"]')
    assert Lot.objects.get(lot_number="B2021001").status == LotStatus.RECALLED
    page.screenshot(path=str(SCREENSHOTS / "lot-recalled.png"), full_page=True)

    with page.expect_download() as download:
        page.locator('[data-testid="recipients-csv"]').click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.decode("utf-8-sig").count("\n") == 10

    # A 390 px phone, in Chinese (the default): nothing wider than the screen but the tables' scroll areas.
    phone = chromium.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "supervisor")
    page.goto(base + "/supply/lots/B2021001/")
    page.wait_for_selector("#county-chart svg")
    assert page.locator('[data-testid="lot-status"]').inner_text().strip() == "已召回"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "lot-trace-phone-zh.png"), full_page=True)
    page.screenshot(path=str(SCREENSHOTS / "lot-trace-phone-zh-top.png"))
    page.locator('[data-testid="recipients"]').scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENSHOTS / "lot-trace-phone-zh-recipients.png"))
    narrowest = page.evaluate(
        "Math.min(...[...document.querySelectorAll('table.data td')].map(e => e.getBoundingClientRect().width))"
    )
    assert narrowest >= 24
    page.goto(base + "/supply/lots/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SCREENSHOTS / "lots-list-phone-zh.png"), full_page=True)
    tallest = page.evaluate("Math.max(...[...document.querySelectorAll('table.data tbody tr')].map(e => e.getBoundingClientRect().height))")
    assert tallest < 120  # no cell squeezed to a character per line
    assert errors == []
    context.close()
    phone.close()
