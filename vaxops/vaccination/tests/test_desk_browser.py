"""The site desk in a real browser (Chromium through Playwright), worked by keyboard: no vaccine
is pre-selected for a first dose, the confirmation carries the next-dose slip, a site manager
undoes a record. Screenshots (1280 px and a 390 px phone, Chinese and English) go to
var/screenshots/.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone, translation

from conftest import build_world, make_person
from vaxops.core.formats import format_date
from vaxops.registry.idnumber import make_id_number
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose
from vaxops.web.tests.test_browser import log_in

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# ordinary synchronous code that Django would otherwise refuse to run there.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
NEW_ID = make_id_number("513301", dt.date(1990, 7, 21), 37)




@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    # serialized_rollback brings back the product catalogue (loaded by a data migration).
    return build_world()


def open_desk(chromium, base: str, username: str, *, language: str = "en", width: int = 1280):
    context = chromium.new_context(locale="en-US", viewport={"width": width, "height": 900})
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": base}])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, username)
    page.goto(base + "/desk/")
    # The ID field has the focus once Chromium has applied autofocus (after "load" on a busy machine).
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_id_number'")
    return context, page, errors


def focused(page) -> str:
    return page.evaluate("document.activeElement && (document.activeElement.id || document.activeElement.name || '')")


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width


def test_first_dose_has_no_default_vaccine_and_the_slip_gives_the_next_dose(chromium, world, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context, page, errors = open_desk(chromium, live_server.url, "vaccinator")
    assert focused(page) == "id_id_number"

    # A new person: type the ID, Enter; register by keyboard (name, Tab, phone, Enter).
    page.keyboard.type(NEW_ID)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="register"]')
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_name'")
    page.keyboard.type("Zhao Liu")
    page.keyboard.press("Tab")
    page.keyboard.type("13800138000")
    page.keyboard.press("Enter")

    # The card: no vaccine chosen, the keyboard on the choice; Enter records nothing.
    page.wait_for_selector('[data-testid="product-choice"]')
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'product'")
    assert page.locator('input[name="product"]:checked').count() == 0
    assert page.locator('[data-testid="record"]').count() == 0
    page.screenshot(path=str(SCREENSHOTS / "desk-first-dose-card.png"), full_page=True)
    page.keyboard.press("Enter")
    page.keyboard.press("Enter")
    page.wait_for_timeout(400)
    assert page.locator('[data-testid="confirmation"]').count() == 0
    assert not DoseRecord.objects.exists()

    # Key 1 chooses the first vaccine with stock; its verdict appears; Enter records it.
    page.keyboard.press("1")
    page.wait_for_selector('[data-testid="verdict"][data-status="eligible"]')
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'product'")
    assert page.locator('input[name="product"]:checked').get_attribute("value") == "BIBP"
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="confirmation"]')
    assert "Dose 1 recorded for Zhao Liu." in page.locator('[data-testid="confirmation"]').inner_text()
    # Ready for the next person: the keyboard is back on the ID number.
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'id_id_number'")
    dose = DoseRecord.objects.get()
    assert dose.product.code == "BIBP"

    # The slip: dose 2 from 21 days on, due by day 56; the print button prints (no inline code).
    given = timezone.localtime(dose.administered_at).date()
    slip = page.locator('[data-testid="next-dose"]').inner_text()
    with translation.override("en"):
        assert slip == (f"Dose 2: from {format_date(given + dt.timedelta(days=21))}, "
                        f"by {format_date(given + dt.timedelta(days=56))} at the latest")
    # (the expression ends with a number: Playwright would call a function it evaluates to)
    page.evaluate("window.__printed = 0; window.print = function () { window.__printed += 1; }; 0")
    page.click("#print-slip")
    assert page.evaluate("window.__printed") == 1
    page.emulate_media(media="print")
    assert page.locator('[data-testid="site-day"]').is_hidden()
    assert page.locator('[data-testid="slip"]').is_visible()
    page.emulate_media(media="screen")
    # The site's day counts the dose.
    assert page.locator('[data-testid="day-first"]').inner_text() == "1"
    page.screenshot(path=str(SCREENSHOTS / "desk-slip-en-1280.png"), full_page=True)

    # On a phone, the same confirmation fits the width.
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(150)
    assert fits(page, 390)
    page.screenshot(path=str(SCREENSHOTS / "desk-slip-en-390.png"), full_page=True)
    assert errors == []
    context.close()


def test_second_dose_starts_with_the_series_product_in_chinese_on_a_phone(chromium, world, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    person = make_person(world, seq=88, name="王芳", born=dt.date(1975, 2, 14), phone="13900001111")
    record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="CORONAVAC", lot_number="C2021001",
                site_code="KD-MASS", acting_user=world.users["vaccinator"],
                administered_at=timezone.now() - dt.timedelta(days=25), source="cli")
    for width in (1280, 390):
        context, page, errors = open_desk(chromium, live_server.url, "vaccinator", language="zh-hans", width=width)
        page.keyboard.type(person.id_number)
        page.keyboard.press("Enter")
        page.wait_for_selector('[data-testid="verdict"][data-status="eligible"]')
        assert page.locator('input[name="product"]:checked').get_attribute("value") == "CORONAVAC"
        page.wait_for_function("() => document.activeElement && document.activeElement.dataset.testid === 'record'")
        assert fits(page, width)
        page.screenshot(path=str(SCREENSHOTS / f"desk-card-zh-{width}.png"), full_page=True)
        if width == 390:
            page.keyboard.press("Enter")
            page.wait_for_selector('[data-testid="confirmation"]')
            assert page.locator('[data-testid="next-dose"]').inner_text().startswith("加强免疫（第3剂）：")
            assert fits(page, width)
            page.screenshot(path=str(SCREENSHOTS / "desk-slip-zh-390.png"), full_page=True)
        assert errors == []
        context.close()


def test_site_manager_undoes_a_record_with_a_reason(chromium, world, live_server):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    person = make_person(world, seq=77, name="Li Na", born=dt.date(1982, 9, 3))
    dose, _ = record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP",
                          lot_number="B2021001", site_code="KD-MASS", acting_user=world.users["vaccinator"],
                          administered_at=timezone.now(), source="cli")
    context, page, errors = open_desk(chromium, live_server.url, "site_manager")
    assert page.locator('[data-testid="day-total"]').inner_text() == "1"
    record = page.locator(f'[data-testid="latest-record"][data-dose="{dose.pk}"]')
    record.locator("summary").click()
    page.focus(f"#void-reason-{dose.pk}")
    page.keyboard.type("Recorded for the wrong person")
    page.screenshot(path=str(SCREENSHOTS / "desk-undo.png"), full_page=True)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="day-message"]')
    assert page.locator('[data-testid="day-total"]').inner_text() == "0"
    assert "is-voided" in page.locator(f'[data-testid="latest-record"][data-dose="{dose.pk}"]').get_attribute("class")
    dose.refresh_from_db()
    assert (dose.status, dose.void_reason) == ("voided", "Recorded for the wrong person")
    assert errors == []
    context.close()


def test_a_vaccinator_sees_no_undo(chromium, world, live_server):
    person = make_person(world, seq=78, name="Wu Lei")
    record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                site_code="KD-MASS", acting_user=world.users["vaccinator"], administered_at=timezone.now(),
                source="cli")
    context, page, _ = open_desk(chromium, live_server.url, "vaccinator")
    assert page.locator('[data-testid="latest-record"]').count() == 1
    assert page.locator(".undo").count() == 0
    context.close()


def test_site_manager_overrides_a_deferral_with_the_keyboard(chromium, world, live_server):
    from vaxops.registry.models import Deferral

    person = make_person(world, seq=79, name="Li Na", born=dt.date(1982, 9, 3))
    today = timezone.localdate()
    Deferral.objects.create(person=person, code="acute_illness", since=today - dt.timedelta(days=1),
                            until=today + dt.timedelta(days=2))
    context, page, _ = open_desk(chromium, live_server.url, "site_manager", width=1024)
    page.keyboard.type(person.id_number)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="product-choice"]')
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'product'")
    page.keyboard.press("1")
    page.wait_for_selector('[data-testid="verdict"][data-status="not_yet"]')
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'product'")
    page.keyboard.press("Tab")  # the lot
    page.keyboard.press("Tab")  # the scanned lot code
    page.keyboard.press("Tab")  # the override box
    assert focused(page) == "id_override_reason"
    page.keyboard.type("Fever gone; examined by the site doctor.")
    page.screenshot(path=str(SCREENSHOTS / "desk-override.png"), full_page=True)
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="confirmation"]')
    assert "Dose 1 recorded for Li Na." in page.locator('[data-testid="confirmation"]').inner_text()
    context.close()


def test_a_scanned_lot_code_records_the_dose_on_a_phone(chromium, world, live_server):
    from conftest import stock
    from vaxops.catalog.models import Product
    from vaxops.supply.models import Lot

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    sooner = Lot.objects.create(product=Product.objects.get(code="BIBP"), lot_number="B2021SOON",
                                expiry_date=dt.date(2029, 6, 30))
    stock(world, "KD-MASS", sooner, 40)
    person = make_person(world, seq=81, name="Ma Lin")
    context, page, errors = open_desk(chromium, live_server.url, "vaccinator", width=390)
    page.keyboard.type(person.id_number)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="product-choice"]')
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'product'")
    page.keyboard.press("1")  # BIBP
    page.wait_for_selector('[data-testid="verdict"][data-status="eligible"]')
    page.wait_for_function("() => document.activeElement && document.activeElement.name === 'product'")
    options = [o.strip() for o in page.locator("#id_lot option").all_inner_texts()]
    assert options[0].startswith("B2021SOON") and "40 doses left" in options[0]
    page.screenshot(path=str(SCREENSHOTS / "desk-lot-stock-390.png"), full_page=True)
    page.click("#id_lot_code")
    page.keyboard.type("BIBP-B2021001")  # what a scanner types, ending with Enter
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="confirmation"]')
    assert DoseRecord.objects.get(person=person).lot.lot_number == "B2021001"
    assert fits(page, 390) and not errors
    context.close()
