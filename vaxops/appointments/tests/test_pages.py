"""The booking grid and the desk's next-dose booking, in both languages; refusals as pages."""

from __future__ import annotations

import re

import pytest

from vaxops.appointments import services
from vaxops.appointments.models import Appointment
from vaxops.appointments.tests.helpers import at, book, give_now, person, session, slotted, today

pytestmark = pytest.mark.django_db


def log_in(client, world, role, language=None):
    from django.conf import settings

    client.force_login(world.users[role])
    if language:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_grid_shows_slots_and_bookings_and_books_by_id_number(client, world):
    s = slotted(world, capacity={1: 2, 2: 1})
    p = person(world, 701)
    book(world, s, p)
    log_in(client, world, "vaccinator", "en")
    r = client.get(f"/appointments/sessions/{s.pk}/")
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="slot-grid"' in html
    assert "1/2" in html and p.name in html
    other = person(world, 702)
    r = client.post(f"/appointments/sessions/{s.pk}/book/", {
        "id_numbers": other.id_number, "dose_number": "1", "starts_at": at(s.date, 8).isoformat()}, follow=True)
    assert "Booked at 08:00" in r.content.decode()
    # The slot is now full for dose 1: a third person is told so, nothing written.
    third = person(world, 703)
    r = client.post(f"/appointments/sessions/{s.pk}/book/", {
        "id_numbers": third.id_number, "dose_number": "1", "starts_at": at(s.date, 8).isoformat()}, follow=True)
    assert "no place left" in r.content.decode()
    assert Appointment.objects.count() == 2
    # Cancel from the page.
    a = Appointment.objects.get(person=other)
    r = client.post(f"/appointments/{a.pk}/cancel/", follow=True)
    assert "cancelled" in r.content.decode()
    a.refresh_from_db()
    assert a.status == "cancelled"


def test_the_grid_speaks_chinese_and_the_manager_sets_slots(client, world):
    s = session(world)
    log_in(client, world, "site_manager")
    r = client.get(f"/appointments/sessions/{s.pk}/")
    html = r.content.decode()
    assert "预约" in html and 'data-testid="set-slots"' in html
    r = client.post(f"/appointments/sessions/{s.pk}/slots/", {"minutes": "60", "capacity_1": "5", "capacity_2": "2"},
                    follow=True)
    assert len(services.slots_of(s)) == 4


def test_refusals_are_pages(client, world):
    s = slotted(world)
    log_in(client, world, "vaccinator_ld")
    assert client.get(f"/appointments/sessions/{s.pk}/").status_code == 404
    log_in(client, world, "supply_officer")
    assert client.get(f"/appointments/sessions/{s.pk}/").status_code == 403


def test_the_desk_books_the_next_dose_at_the_confirmation(client, world):
    p = person(world, 710)
    give_now(world, p)
    later = slotted(world, days=22, capacity={2: 2})
    log_in(client, world, "vaccinator", "en")
    earliest = (today().toordinal() + 21)
    import datetime as dt

    q = {"id_number": p.id_number, "site": "KD-MASS", "number": "2",
         "earliest": dt.date.fromordinal(earliest).isoformat()}
    r = client.get("/appointments/desk/next/", q)
    html = r.content.decode()
    assert r.status_code == 200 and 'data-testid="next-slot"' in html
    value = re.search(r'<option value="([^"]+)"', html).group(1)
    assert value.startswith(f"{later.pk}|")
    r = client.post("/appointments/desk/book/", {**q, "slot": value})
    assert 'data-testid="next-booked"' in r.content.decode()
    a = Appointment.objects.get(person=p)
    assert a.dose_number == 2 and a.session_id == later.pk
    # Asking again shows the booking, not a second one.
    assert 'data-testid="next-booked"' in client.get("/appointments/desk/next/", q).content.decode()


def test_the_desk_confirmation_loads_the_next_dose_box(client, world):
    p = person(world, 711)
    log_in(client, world, "vaccinator", "en")
    import uuid

    r = client.post("/desk/record/", {"id_number": p.id_number, "site": "KD-MASS", "product": "BIBP",
                                      "lot": "B2021001", "client_uuid": str(uuid.uuid4())})
    html = r.content.decode()
    assert 'data-testid="confirmation"' in html, html[:2000]
    assert 'data-testid="next-booking-slot"' in html and "/appointments/desk/next/" in html


def test_without_scripts_the_next_dose_is_booked_on_a_page_of_its_own(client, world):
    """A browser without scripts: the confirmation links to the box as a page; booking there
    answers the page again with the booking, and the desk is one link away."""
    import datetime as dt
    import uuid

    p = person(world, 712)
    later = slotted(world, days=22, capacity={2: 2})
    log_in(client, world, "vaccinator", "en")
    r = client.post("/desk/record/", {"id_number": p.id_number, "site": "KD-MASS", "product": "BIBP",
                                      "lot": "B2021001", "client_uuid": str(uuid.uuid4())})
    link = re.search(r'<noscript><p class="no-print"><a class="button" href="([^"]+)"', r.content.decode())
    assert link, "no link to the next-dose box for a browser without scripts"
    page = client.get(link.group(1).replace("&amp;", "&"))
    html = page.content.decode()
    assert page.status_code == 200 and "<html" in html and 'data-testid="next-slot"' in html
    value = re.search(r'<option value="([^"]+)"', html).group(1)
    earliest = (today() + dt.timedelta(days=21)).isoformat()
    booked = client.post("/appointments/desk/book/", {"id_number": p.id_number, "site": "KD-MASS", "number": "2",
                                                       "earliest": earliest, "slot": value})
    html = booked.content.decode()
    assert "<html" in html and 'data-testid="next-booked"' in html and 'href="/desk/"' in html
    assert Appointment.objects.get(person=p).session_id == later.pk
    # With HTMX the same answers stay fragments.
    assert "<html" not in client.get(link.group(1).replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
