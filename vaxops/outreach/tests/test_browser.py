"""The grid worker's list on a 390 px phone (zh-Hans): an outcome in two taps; the roll-up and the
village list on a desk screen (English). Screenshots go to var/screenshots/."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest

from conftest import build_world, make_person
from vaxops.web.tests.test_browser import SCREENSHOTS, english_context, log_in

pytestmark = pytest.mark.browser
SHOTS = Path("/work/shots")


@pytest.fixture
def world(transactional_db, django_db_serialized_rollback, live_server):
    return build_world()


def seed(world):
    from conftest import reload_priority_groups
    from vaxops.outreach.tests.helpers import contact, give_dose, grid

    reload_priority_groups()  # reference data a transactional test before this one flushed

    g1, g2 = grid(world, "513301001001", "炉城一网格"), grid(world, "513301001002", "炉城二网格")
    names = ["卓玛", "次仁", "扎西", "拉姆", "格桑", "央金"]
    people = [make_person(world, seq=81 + 2 * i, name=n, born=dt.date(1948 + 9 * i, 3, 1), phone=f"1390000008{i}",
                          division=(g1 if i % 2 else g2).code, priority_groups=["teachers"] if i == 2 else None)
              for i, n in enumerate(names)]
    give_dose(world, people[5], dt.date.today() - dt.timedelta(days=25))
    contact(world, people[1], "refused", concern="safety")
    return people


def shot(page, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"outreach-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if SHOTS.is_dir():
        shutil.copy(path, SHOTS / path.name)


def test_an_outcome_in_two_taps_on_a_phone(chromium, world, live_server):
    from vaxops.outreach.models import ContactAttempt

    people = seed(world)
    base = live_server.url
    phone = chromium.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
    page = phone.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "grid_worker")
    page.goto(f"{base}/outreach/")
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    shot(page, "phone-list")
    card = page.locator(f'[data-testid="person-{people[0].pk}"]')
    card.locator("summary").first.click()  # tap 1: the person
    button = card.locator('[data-testid="outcome-will_come"]')
    box = button.bounding_box()
    assert box and box["height"] >= 44
    shot(page, "phone-open")
    button.click()  # tap 2: the outcome
    page.wait_for_selector('[data-testid="messages"]')
    assert ContactAttempt.objects.filter(person=people[0], outcome="will_come").exists()
    assert "会来" in page.locator(f'[data-testid="person-{people[0].pk}"]').inner_text()
    page.goto(f"{base}/outreach/rollup/?division=513301001")
    assert page.evaluate("document.documentElement.scrollWidth") <= 391
    shot(page, "phone-rollup")
    phone.close()

    desk = english_context(chromium, base, {"width": 1280, "height": 900})
    page = desk.new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, base, "township_organiser")
    page.goto(f"{base}/outreach/?division=513301001")
    shot(page, "desk-list")
    page.goto(f"{base}/outreach/rollup/?division=513301001")
    assert page.locator('[data-testid="rollup"] tbody tr').count() == 2
    shot(page, "desk-rollup")
    page.goto(f"{base}/outreach/print/?division=513301001001")
    shot(page, "desk-print")
    page.emulate_media(media="print")
    shot(page, "print-media")
    desk.close()
    assert errors == []
