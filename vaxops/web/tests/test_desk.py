"""The site desk over the Django test client: look up, register, assess, record, confirm."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from conftest import make_person
from vaxops.core.models import AuditEvent
from vaxops.registry.idnumber import make_id_number
from vaxops.registry.models import Deferral, Person
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

LOOKUP = reverse("web:desk_lookup")
REGISTER = reverse("web:desk_register")
RECORD = reverse("web:desk_record")
HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_ID = make_id_number("513301", dt.date(1985, 3, 4), 55)


@pytest.fixture
def desk(client, world):
    """A vaccinator at the Kangding mass site, reading the desk in English."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world.users["vaccinator"])
    return client


def lookup(client, id_number, product="BIBP", **extra):
    return client.post(LOOKUP, {"site": "KD-MASS", "product": product, "id_number": id_number}, **extra)


def dose_fields(response, **changes) -> dict:
    """The dose form as the page rendered it (hidden fields and the pre-selected lot)."""
    form = response.context["dose_form"]
    data = {name: form[name].value() for name in ("site", "product", "person_id", "client_uuid", "lot")}
    return {**data, **changes}


def test_desk_waits_for_an_id_number_with_the_input_focused(desk):
    body = desk.get(reverse("web:desk")).content.decode()
    field = body[body.index('id="id_id_number"'):]
    assert "autofocus" in field[: field.index(">")]


def test_new_person_is_registered_then_vaccinated(desk, world):
    r = lookup(desk, NEW_ID)
    assert r.context["stage"] == "register"
    assert NEW_ID in r.content.decode()
    assert "From the ID number: born 4 March 1985, male." in r.content.decode()

    r = desk.post(REGISTER, {"site": "KD-MASS", "product": "BIBP", "id_number": NEW_ID,
                             "name": "赵六", "phone": "13800000000"})
    assert r.context["stage"] == "card"
    person = Person.objects.get(id_number=NEW_ID)
    assert (person.name, person.sex, person.birth_date) == ("赵六", "M", dt.date(1985, 3, 4))
    assert AuditEvent.objects.get(action="person.register").source == "web"
    body = r.content.decode()
    assert f'data-testid="full-id">{NEW_ID}<' in body
    assert r.context["verdict"].status == "eligible" and r.context["verdict"].dose_number == 1
    # Only released, unexpired lots of the product, first-expiring first.
    assert [lot.lot_number for lot in r.context["lots"]] == ["B2021001"]

    r = desk.post(RECORD, dose_fields(r))
    assert r.context["stage"] == "done"
    dose = DoseRecord.objects.get(person=person)
    assert (dose.dose_number, dose.site.code, dose.lot.lot_number) == (1, "KD-MASS", "B2021001")
    assert AuditEvent.objects.get(action="dose.record").source == "web"
    body = r.content.decode()
    assert "Dose 1 recorded for 赵六." in body
    assert timezone.localtime(dose.administered_at).strftime("%H:%M") in body
    # Ready for the next person: the ID input is empty and focused again.
    field = body[body.index('id="id_id_number"'):]
    assert 'value=""' in field[: field.index(">")] and "autofocus" in field[: field.index(">")]


def test_the_same_form_submitted_twice_records_one_dose(desk, person):
    card = lookup(desk, person.id_number)
    first = desk.post(RECORD, dose_fields(card))
    again = desk.post(RECORD, dose_fields(card))
    assert first.context["done"]["created"] is True
    assert again.context["done"]["created"] is False
    assert again.context["done"]["dose"].pk == first.context["done"]["dose"].pk
    assert DoseRecord.objects.filter(person=person).count() == 1
    assert "already been submitted" in again.content.decode()


def test_known_person_shows_the_card_with_dose_history(desk, world, person):
    # A first dose given at another site, long ago: the card shows it and dose 2 is overdue.
    record_dose(client_uuid="00000000-0000-4000-8000-000000000001", person_id=person.pk, product_code="BIBP",
                lot_number="B2021001", site_code="LD-MASS", acting_user=world.users["vaccinator_ld"],
                administered_at=dt.datetime(2021, 5, 10, 10, tzinfo=dt.UTC), source="api")
    r = lookup(desk, person.id_number)
    assert r.context["stage"] == "card"
    assert [d.dose_number for d in r.context["history"]] == [1]
    assert r.context["verdict"].dose_number == 2
    assert r.context["verdict"].overdue is True  # dose 2 of BIBP is due within 8 weeks
    body = r.content.decode()
    assert 'data-testid="history"' in body and "Overdue" in body
    assert "Record dose 2" in body


def test_bad_id_number_is_explained_next_to_the_field(desk):
    bad = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
    r = lookup(desk, bad)
    assert r.context["stage"] == "ready"
    errors = r.context["lookup_form"].errors["id_number"]
    assert errors[0].startswith("The ID number is not valid: the last character should be")
    body = r.content.decode()
    assert 'data-testid="id-error"' in body and "Traceback" not in body
    assert 'aria-invalid="true"' in body


def test_empty_id_number_is_explained(desk):
    r = lookup(desk, "")
    assert "The ID number is not valid" in r.context["lookup_form"].errors["id_number"][0]


def test_quarantined_lot_is_refused_with_the_reason(desk, person):
    card = lookup(desk, person.id_number)
    r = desk.post(RECORD, dose_fields(card, lot="B2021Q01"))
    assert r.context["stage"] == "card"
    assert r.context["dose_form"].errors["lot"] == ["Lot B2021Q01 is quarantined and must not be used."]
    assert 'data-testid="lot-error"' in r.content.decode()
    assert not DoseRecord.objects.exists()
    # The form keeps its submission ID, so the corrected submission is still one dose.
    assert r.context["dose_form"]["client_uuid"].value() == card.context["dose_form"]["client_uuid"].value()
    fixed = desk.post(RECORD, dose_fields(card, lot="B2021001"))
    assert fixed.context["stage"] == "done"


@pytest.mark.parametrize(("lot", "message"), [
    ("B2020999", "Lot B2020999 expired on 1 March 2021."),
    ("C2021001", "Lot C2021001 is CoronaVac, not COVID-19 vaccine inactivated (Vero) - Beijing Institute."),
    ("NOPE", "Lot NOPE is not known."),
])
def test_unusable_lots_are_refused_in_plain_words(desk, person, lot, message):
    card = lookup(desk, person.id_number)
    r = desk.post(RECORD, dose_fields(card, lot=lot))
    assert r.context["dose_form"].errors["lot"] == [message]


def test_registration_errors_are_shown_next_to_their_fields(desk):
    base = {"site": "KD-MASS", "product": "BIBP", "id_number": NEW_ID}
    r = desk.post(REGISTER, {**base, "name": "", "phone": ""})
    assert r.context["register_form"].errors["name"] == ["Enter the person's name."]
    r = desk.post(REGISTER, {**base, "name": "赵六", "phone": "12345"})
    assert r.context["register_form"].errors["phone"] == ["The phone number must be 11 digits starting with 1."]
    assert not Person.objects.exists()


def test_htmx_requests_get_only_the_desk_part(desk, person):
    r = lookup(desk, person.id_number, **HTMX)
    body = r.content.decode()
    assert body.lstrip().startswith('<section id="desk-work"')
    assert "<html" not in body
    assert "<html" in lookup(desk, person.id_number).content.decode()


@pytest.fixture
def deferred(world):
    """Someone with a short deferral: the rules say "not yet", which a site manager may override."""
    p = make_person(world, seq=301, name="钱七")
    today = timezone.localdate()
    Deferral.objects.create(person=p, code="acute_illness", since=today - dt.timedelta(days=1),
                            until=today + dt.timedelta(days=3))
    return p


def test_vaccinator_cannot_override_a_refusal(desk, deferred):
    r = lookup(desk, deferred.id_number)
    assert r.context["verdict"].status == "not_yet"
    assert r.context["can_override"] is False and r.context["can_record"] is False
    body = r.content.decode()
    assert "override_reason" not in body and 'data-testid="dose-form"' not in body
    until = timezone.localdate() + dt.timedelta(days=3)
    assert (
        "Vaccination is deferred (fever, acute illness or acute attack of a chronic disease) "
        f"until {until.day} {until:%B %Y}" in body
    )


def test_site_manager_overrides_a_refusal_with_a_written_reason(client, world, deferred):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world.users["site_manager"])
    card = lookup(client, deferred.id_number)
    assert card.context["can_override"] is True
    assert 'name="override_reason"' in card.content.decode()
    r = client.post(RECORD, dose_fields(card, override_reason="  "))
    assert r.context["dose_form"].errors["override_reason"] == [
        "Write the reason for giving a dose the rules refuse."
    ]
    r = client.post(RECORD, dose_fields(card, override_reason="Fever gone; examined by the site doctor."))
    assert r.context["stage"] == "done"
    assert DoseRecord.objects.get(person=deferred).override_reason == "Fever gone; examined by the site doctor."


def test_product_choice_is_remembered_for_the_next_person(desk, person):
    lookup(desk, person.id_number, product="CORONAVAC")
    r = desk.get(reverse("web:desk"))
    assert r.context["lookup_form"]["product"].value() == "CORONAVAC"


def test_a_site_outside_the_users_sites_is_refused(desk, person):
    r = desk.post(LOOKUP, {"site": "LD-MASS", "product": "BIBP", "id_number": person.id_number})
    assert r.context["stage"] == "ready"
    assert r.context["lookup_form"].errors["site"]


def test_a_product_without_usable_lots_cannot_be_recorded(desk, world, person):
    from vaxops.catalog.models import Product

    other = Product.objects.exclude(code__in=["BIBP", "CORONAVAC"]).order_by("code").first()
    r = lookup(desk, person.id_number, product=other.code)
    assert r.context["lots"] == [] and r.context["can_record"] is False
    body = r.content.decode()
    assert 'data-testid="no-lot"' in body and 'data-testid="dose-form"' not in body


def test_the_desk_starts_with_a_product_that_has_stock(desk):
    r = desk.get(reverse("web:desk"))
    assert r.context["lookup_form"]["product"].value() == "BIBP"
