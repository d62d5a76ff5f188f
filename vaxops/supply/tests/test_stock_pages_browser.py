"""The stock pages in a real browser (Chromium through Playwright), worked by keyboard: a supply
officer receives a shipment from the manufacturer, dispatches part of it to a site, and sees the
store's balance change. Screenshots (1280 px desk and 390 px phone, zh-Hans) go to
var/screenshots/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings

from conftest import build_world
from vaxops.supply.models import StockBalance, Transfer, TransferStatus
from vaxops.web.tests.test_browser import log_in

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# ordinary synchronous code that Django would otherwise refuse to run there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
DESK, PHONE = {"width": 1280, "height": 900}, {"width": 390, "height": 844}


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    # serialized_rollback brings back the product catalogue (loaded by a data migration).
    return build_world()


def focused(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.name || document.activeElement.id || '')")


def wait_for_focus(page, name: str) -> None:
    # Chromium applies autofocus at its next rendering step, which can come after "load".
    page.wait_for_function(f"() => document.activeElement && document.activeElement.name === {name!r}")


def choose(page, value: str) -> None:
    """Move the focused <select> to ``value`` with the arrow keys."""
    for _ in range(30):
        if page.evaluate("document.activeElement.value") == value:
            return
        page.keyboard.press("ArrowDown")
    raise AssertionError(f"option {value} not reached by keyboard")


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def shoot(page, name: str) -> None:
    """The whole page, and (for a long phone page) its first screen as a phone shows it."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), full_page=True)
    if page.viewport_size["width"] < 600:
        page.screenshot(path=str(SCREENSHOTS / name.replace(".png", "-screen.png")))


def test_a_shipment_received_and_dispatched_by_keyboard_changes_the_balance(chromium, world, live_server):
    base = live_server.url
    context = chromium.new_context(locale="zh-CN", viewport=DESK)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "supply_officer")

    # The menu leads to the stores; the county store is there with its 50,000 doses.
    page.get_by_role("link", name="疫苗供应", exact=True).focus()
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/supply/")
    assert page.locator('tr[data-store="KD-CDC"] [data-testid="on-hand"]').inner_text() == "50000"
    shoot(page, "supply-stores-desk-zh.png")

    # Receive a shipment: the store has the focus; every field by keyboard, Enter records it.
    page.goto(base + "/supply/receipts/new/?store=KD-CDC")
    wait_for_focus(page, "store")
    assert page.evaluate("document.activeElement.value") == "KD-CDC"
    page.keyboard.press("Tab")
    assert focused(page) == "product"
    choose(page, "BIBP")
    page.keyboard.press("Tab")
    page.keyboard.type("G2021777")
    page.keyboard.press("Tab")
    assert focused(page) == "expiry_date"
    page.keyboard.type("2029-06-30")
    page.keyboard.press("Tab")
    page.keyboard.type("北京生物")
    page.keyboard.press("Tab")
    page.keyboard.type("SJ202105001")
    page.keyboard.press("Tab")
    page.keyboard.type("2000")
    page.keyboard.press("Tab")
    assert focused(page) == "arrival_temperature_c"
    page.keyboard.type("4.5")
    shoot(page, "supply-receipt-desk-zh.png")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/supply/stores/KD-CDC/")
    assert "批号G2021777已入库2000剂。" in page.locator('[data-testid="messages"]').inner_text()
    assert page.locator('tr[data-lot="G2021777"] [data-testid="lot-on-hand"]').inner_text() == "2000"

    # Dispatch: the destination has the focus; the new lot expires first, so it is the first line.
    page.get_by_role("link", name="调拨发出").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/supply/stores/KD-CDC/dispatch/")
    wait_for_focus(page, "to_store")
    choose(page, "KD-MASS")
    page.keyboard.press("Tab")
    first_lot = page.locator('[data-testid="dispatch-lines"] tbody tr').first.get_attribute("data-lot")
    assert first_lot == "G2021777"
    page.keyboard.type("400")
    shoot(page, "supply-dispatch-desk-zh.png")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/supply/stores/KD-CDC/")
    assert page.locator('tr[data-lot="G2021777"] [data-testid="lot-on-hand"]').inner_text() == "1600"
    assert "400剂在途" in page.locator('[data-testid="messages"]').inner_text()
    assert page.locator('[data-testid="transit"]').inner_text().count("G2021777") == 1
    shoot(page, "supply-store-desk-zh.png")

    transfer = Transfer.objects.get(from_store__code="KD-CDC", to_store__code="KD-MASS")
    assert transfer.status == TransferStatus.IN_TRANSIT
    assert StockBalance.objects.get(store__code="KD-CDC", lot__lot_number="G2021777").on_hand == 1600

    # At phone width the pages read without sideways scrolling.
    page.set_viewport_size(PHONE)
    for url, name in [("/supply/", "supply-stores-phone-zh.png"), ("/supply/stores/KD-CDC/", "supply-store-phone-zh.png"),
                      ("/supply/stores/KD-CDC/dispatch/", "supply-dispatch-phone-zh.png")]:
        page.goto(base + url)
        assert fits(page, PHONE["width"]), url
        shoot(page, name)
    assert errors == []
    context.close()


def test_a_site_manager_receives_the_transfer_by_keyboard_on_a_phone(chromium, world, live_server):
    from vaxops.supply.tests.helpers import send

    transfer = send(world, 500)
    base = live_server.url
    context = chromium.new_context(locale="zh-CN", viewport=PHONE)
    page = context.new_page()
    log_in(page, base, "site_manager")
    page.goto(base + "/supply/transfers/waiting/")
    line = transfer.lines.get()
    page.wait_for_function(
        f"() => document.activeElement && document.activeElement.name === 'accepted_{line.pk}'")
    assert page.evaluate("document.activeElement.value") == "500"
    page.keyboard.press("Control+A")
    page.keyboard.type("490")
    page.keyboard.press("Tab")
    page.keyboard.press("Control+A")
    page.keyboard.type("10")
    page.keyboard.press("Tab")
    choose(page, "broken")
    page.keyboard.press("Tab")
    page.keyboard.type("5")
    page.keyboard.press("Tab")
    page.keyboard.type("王师傅")
    assert fits(page, PHONE["width"])
    shoot(page, "supply-waiting-phone-zh.png")
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/supply/stores/KD-MASS/")
    assert page.locator('[data-testid="differences"] [data-testid="rejected"]').inner_text() == "10"
    assert page.locator('tr[data-lot="B2021001"] [data-testid="lot-on-hand"]').inner_text() == "10490"
    for url, name in [("/supply/stores/KD-MASS/count/", "supply-count-phone-zh.png"),
                      ("/supply/stores/KD-MASS/adjust/", "supply-adjust-phone-zh.png")]:
        page.goto(base + url)
        assert fits(page, PHONE["width"]), url
        shoot(page, name)
    context.close()


def test_the_county_command_reads_the_stores_on_a_phone_in_english(chromium, world, live_server):
    base = live_server.url
    context = chromium.new_context(locale="en-US", viewport=PHONE)
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": "en", "url": base}])
    page = context.new_page()
    log_in(page, base, "county_command")
    page.get_by_role("link", name="Supply", exact=True).click()
    page.wait_for_url(base + "/supply/")
    # Six menu links wrap instead of pushing the page sideways.
    assert fits(page, PHONE["width"])
    assert page.locator('tr[data-store="KD-CDC"] [data-testid="on-hand"]').inner_text() == "50,000"
    shoot(page, "supply-stores-phone-en.png")
    page.set_viewport_size(DESK)
    page.goto(base + "/supply/stores/KD-MASS/")
    assert "Balance by lot" in page.content()
    shoot(page, "supply-store-desk-en.png")
    context.close()
