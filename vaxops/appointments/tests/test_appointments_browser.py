"""The booking grid and the desk's next-dose booking in a real browser (Chromium through
Playwright): book a person by ID number on a desk screen in English, the grid on a 390 px
phone in Chinese, and the next dose booked at the desk's confirmation. Screenshots go to
var/screenshots/ and /work/shots/ when that folder exists."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from conftest import build_world
from vaxops.appointments.models import Appointment
from vaxops.appointments.tests.helpers import book, person, slotted
from vaxops.vaccination.tests.test_desk_browser import open_desk
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots")


def shoot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def test_book_on_the_grid_on_a_desk_and_read_it_on_a_phone(chromium, world, live_server):
    s = slotted(world, capacity={1: 4, 2: 2}, minutes=30)
    for i, p in enumerate([person(world, 901 + i) for i in range(5)]):
        book(world, s, p, hour=8 + i // 2, minute=30 * (i % 2))
    newcomer = person(world, 910)
    base = live_server.url
    context = english_context(chromium, base, {"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "site_manager")
    page.goto(f"{base}/appointments/sessions/{s.pk}/")
    assert page.locator('[data-testid="slot-grid"] tbody tr').count() == 8
    page.fill("#book-ids", newcomer.id_number)
    page.select_option("#book-slot", index=0)
    page.get_by_role("button", name="Book", exact=True).click()
    page.wait_for_selector('[data-testid="messages"]')
    assert "Booked at 08:00" in page.locator('[data-testid="messages"]').inner_text()
    assert page.locator('[data-testid="booked-1"]').inner_text() == "6 / 32"
    shoot(page, "appointments-grid-desk")
    context.close()

    phone = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "vaccinator")
    page.goto(f"{base}/appointments/sessions/{s.pk}/")
    assert "预约" in page.content()
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    box = page.locator('[data-testid="cancel"]').first.bounding_box()
    assert box and box["height"] >= 44
    shoot(page, "appointments-grid-phone")
    phone.close()
    assert errors == []


def test_the_desk_books_the_next_dose_at_the_confirmation(chromium, world, live_server):
    from conftest import make_person

    later = slotted(world, days=22, capacity={2: 3})
    p = make_person(world, seq=920, phone="13900000920", name="Zhao Liu")
    context, page, errors = open_desk(chromium, live_server.url, "vaccinator")
    page.keyboard.type(p.id_number)
    page.keyboard.press("Enter")
    # Each key goes in once the desk has settled and put the keyboard on the vaccine choice
    # (a key pressed before that lands in the ID field or on the card being replaced).
    on_choice = "() => document.activeElement && document.activeElement.name === 'product'"
    page.wait_for_selector('[data-testid="product-choice"]')
    page.wait_for_function(on_choice)
    page.keyboard.press("1")
    page.wait_for_selector('[data-testid="verdict"][data-status="eligible"]')
    page.wait_for_function(on_choice)
    page.keyboard.press("Enter")
    page.wait_for_selector('[data-testid="confirmation"]')
    page.wait_for_selector('[data-testid="next-slot"]')
    page.get_by_role("button", name="Book the next dose").click()
    page.wait_for_selector('[data-testid="next-booked"]')
    a = Appointment.objects.get(person=p)
    assert a.dose_number == 2 and a.session_id == later.pk
    assert later.date.strftime("%Y") in page.locator('[data-testid="next-booked"]').inner_text()
    shoot(page, "appointments-desk-next-1280")
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(150)
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    shoot(page, "appointments-desk-next-390")
    context.close()
    assert errors == [] and later.date - dt.date.today() >= dt.timedelta(days=21)
