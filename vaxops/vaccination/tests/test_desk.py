"""The site desk over the Django test client: look up, register, choose, record, confirm, undo."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from conftest import card_in_hand, make_person
from vaxops.core.models import AuditEvent
from vaxops.registry.idnumber import make_id_number
from vaxops.registry.models import Deferral, Person
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

DESK = reverse("web:desk")
LOOKUP = reverse("web:desk_lookup")
CARD = reverse("web:desk_card")
REGISTER = reverse("web:desk_register")
RECORD = reverse("web:desk_record")
VOID = reverse("web:desk_void")
DIVISIONS = reverse("web:desk_divisions")
HTMX = {"HTTP_HX_REQUEST": "true"}
NEW_ID = make_id_number("513301", dt.date(1985, 3, 4), 55)


def english(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def desk(client, world):
    """A vaccinator at the Kangding mass site, reading the desk in English."""
    client.force_login(world.users["vaccinator"])
    return english(client)


@pytest.fixture
def manager(client, world):
    client.force_login(world.users["site_manager"])
    return english(client)


def lookup(client, id_number, **extra):
    return client.post(LOOKUP, {"site": "KD-MASS", "id_number": id_number}, **extra)


def choose(client, card, product):
    """Choose a vaccine on the card (what the radio button's change sends)."""
    form = card.context["dose_form"]
    return client.post(CARD, {"site": "KD-MASS", "id_number": form["id_number"].value(),
                              "client_uuid": form["client_uuid"].value(), "product": product})


def dose_fields(response, **changes) -> dict:
    """The dose form as the page rendered it (hidden fields, chosen product, pre-selected lot)."""
    form = response.context["dose_form"]
    data = {name: form[name].value() or "" for name in ("site", "id_number", "client_uuid", "product", "lot")}
    return {**data, **changes}


def focused(body: str, marker: str) -> bool:
    tag = body[body.index(marker):]
    return "autofocus" in tag[: tag.index(">")]


def test_desk_waits_for_an_id_number_with_the_input_focused(desk):
    assert focused(desk.get(DESK).content.decode(), 'id="id_id_number"')


# -- no vaccine is pre-selected for a first dose -------------------------------------------------


def test_first_dose_card_has_no_vaccine_chosen_and_nothing_to_record(desk, person):
    r = lookup(desk, person.id_number)
    assert r.context["stage"] == "card"
    assert r.context["product"] is None
    assert r.context["can_record"] is False
    body = r.content.decode()
    assert 'data-testid="record"' not in body
    assert 'name="product"' in body and " checked" not in body.split('data-testid="product-choice"')[1].split("</fieldset>")[0]
    # The keyboard lands on the vaccine choice, not on a record button.
    assert focused(body, 'name="product"')


def test_the_lookup_form_does_not_carry_a_vaccine(desk):
    body = desk.get(DESK).content.decode()
    lookup_form = body[body.index('id="lookup-form"'):body.index("</form>", body.index('id="lookup-form"'))]
    assert 'name="product"' not in lookup_form


def test_recording_without_a_chosen_vaccine_records_nothing(desk, person):
    card = lookup(desk, person.id_number)
    r = desk.post(RECORD, dose_fields(card, product="", lot="B2021001"))
    assert not DoseRecord.objects.exists()
    assert r.context["stage"] == "card"
    assert r.context["dose_form"].errors["product"] == ["Choose the vaccine."]


def test_choosing_the_vaccine_shows_its_verdict_and_lots(desk, person):
    card = lookup(desk, person.id_number)
    r = choose(desk, card, "BIBP")
    assert r.context["product"].code == "BIBP"
    assert r.context["verdict"].status == "eligible" and r.context["verdict"].dose_number == 1
    assert [lot.lot_number for lot in r.context["lots"]] == ["B2021001"]
    # The submission ID survives the choice, so the dose form is still the same submission.
    assert r.context["dose_form"]["client_uuid"].value() == card.context["dose_form"]["client_uuid"].value()
    # The focus stays on the choice (arrow keys keep choosing); Enter there records.
    assert r.context["focus"] == "product"
    done = desk.post(RECORD, dose_fields(r))
    assert done.context["stage"] == "done"
    assert DoseRecord.objects.get(person=person).product.code == "BIBP"


def test_products_with_stock_are_offered_with_number_keys(desk, person):
    r = lookup(desk, person.id_number)
    assert [(c["key"], c["product"].code) for c in r.context["choices"]] == [("1", "BIBP"), ("2", "CORONAVAC")]


def test_second_dose_starts_with_the_product_of_the_series(desk, world, person):
    record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="CORONAVAC", lot_number="C2021001",
                site_code="KD-MASS", acting_user=world.users["vaccinator"],
                administered_at=timezone.now() - dt.timedelta(days=28), source="api")
    r = lookup(desk, person.id_number)
    assert r.context["product"].code == "CORONAVAC"
    assert r.context["verdict"].dose_number == 2 and r.context["can_record"] is True
    assert r.context["focus"] == "record"
    assert focused(r.content.decode(), 'data-testid="record"')
    done = desk.post(RECORD, dose_fields(r))
    assert done.context["done"]["dose"].dose_number == 2


def test_a_booster_has_no_default_product(desk, world, person):
    for days in (400, 370):
        record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code="BIBP", lot_number="B2021001",
                    site_code="KD-MASS", acting_user=world.users["vaccinator"],
                    administered_at=timezone.now() - dt.timedelta(days=days), source="api")
    r = lookup(desk, person.id_number)
    assert r.context["product"] is None and r.context["can_record"] is False


# -- the confirmation and the next-dose slip -----------------------------------------------------


def test_new_person_is_registered_then_vaccinated_and_told_the_next_dose(desk, world):
    r = lookup(desk, NEW_ID)
    assert r.context["stage"] == "register"
    body = r.content.decode()
    assert NEW_ID in body and "From the ID number: born 4 March 1985, male." in body
    r = desk.post(REGISTER, {"site": "KD-MASS", "id_number": NEW_ID, "name": "赵六", "phone": "13800000000",
                             "division_code": "513301001", "priority_groups": ["teachers"]})
    assert r.context["stage"] == "card"
    person = Person.objects.get(id_number=NEW_ID)
    assert (person.name, person.sex, person.birth_date) == ("赵六", "M", dt.date(1985, 3, 4))
    assert person.home_division.code == "513301001"
    assert person.priority_groups == ["teachers"]
    assert AuditEvent.objects.get(action="person.register").source == "web"
    assert r.context["product"] is None  # a first dose: the vaccine is chosen on the card

    r = desk.post(RECORD, dose_fields(choose(desk, r, "BIBP")))
    assert r.context["stage"] == "done"
    dose = DoseRecord.objects.get(person=person)
    assert (dose.dose_number, dose.site.code, dose.lot.lot_number) == (1, "KD-MASS", "B2021001")
    body = r.content.decode()
    assert "Dose 1 recorded for 赵六." in body
    today = timezone.localdate()
    nxt = r.context["done"]["next"]
    assert (nxt.number, nxt.earliest, nxt.due_by) == (2, today + dt.timedelta(days=21), today + dt.timedelta(days=56))
    from vaxops.core.formats import format_date

    with_dates = f"Dose 2: from {format_date(nxt.earliest)}, by {format_date(nxt.due_by)} at the latest"
    assert with_dates in body
    assert 'data-print-slip' in body and "onclick" not in body
    # Ready for the next person: the ID input is empty and focused again.
    field = body[body.index('id="id_id_number"'):]
    assert 'value=""' in field[: field.index(">")] and "autofocus" in field[: field.index(">")]


def test_the_next_dose_slip_reads_in_chinese(client, world, person):
    client.force_login(world.users["vaccinator"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    card = client.post(CARD, {"site": "KD-MASS", "id_number": person.id_number, "product": "BIBP",
                              "client_uuid": str(uuid.uuid4())})
    r = client.post(RECORD, dose_fields(card))
    today = timezone.localdate()
    earliest, due = today + dt.timedelta(days=21), today + dt.timedelta(days=56)
    expected = f"第2剂：{earliest.year}年{earliest.month}月{earliest.day}日起，最迟{due.year}年{due.month}月{due.day}日前"
    assert expected in r.content.decode()


def test_the_same_form_submitted_twice_records_one_dose(desk, person):
    card = choose(desk, lookup(desk, person.id_number), "BIBP")
    first = desk.post(RECORD, dose_fields(card))
    again = desk.post(RECORD, dose_fields(card))
    assert first.context["done"]["created"] is True
    assert again.context["done"]["created"] is False
    assert again.context["done"]["dose"].pk == first.context["done"]["dose"].pk
    assert DoseRecord.objects.filter(person=person).count() == 1
    assert "already been submitted" in again.content.decode()


def test_known_person_shows_the_card_with_dose_history(desk, world, person):
    # A first dose given at another site, long ago: the card shows it and dose 2 is overdue.
    card_in_hand(world, "vaccinator_ld", person)  # Luding had the card in hand
    record_dose(client_uuid="00000000-0000-4000-8000-000000000001", person_id=person.pk, product_code="BIBP",
                lot_number="B2021001", site_code="LD-MASS", acting_user=world.users["vaccinator_ld"],
                administered_at=dt.datetime(2021, 5, 10, 10, tzinfo=dt.UTC), source="api")
    r = lookup(desk, person.id_number)
    assert [d.dose_number for d in r.context["history"]] == [1]
    assert r.context["verdict"].dose_number == 2 and r.context["verdict"].overdue is True
    body = r.content.decode()
    assert 'data-testid="history"' in body and "Overdue" in body and "10 May 2021" in body
    assert "Record dose 2" in body


# -- ID numbers ----------------------------------------------------------------------------------


def test_bad_id_number_is_explained_next_to_the_field(desk):
    bad = NEW_ID[:-1] + ("0" if NEW_ID[-1] != "0" else "1")
    r = lookup(desk, bad)
    assert r.context["stage"] == "ready"
    assert r.context["lookup_form"].errors["id_number"][0].startswith(
        "The ID number is not valid: the last character should be"
    )
    body = r.content.decode()
    assert 'data-testid="id-error"' in body and 'aria-invalid="true"' in body


def test_empty_id_number_is_explained(desk):
    assert "The ID number is not valid" in lookup(desk, "").context["lookup_form"].errors["id_number"][0]


def test_full_width_and_spaced_id_numbers_find_the_person(desk, person):
    full_width = person.id_number.translate({ord(str(i)): chr(0xFF10 + i) for i in range(10)})
    spaced = f"{person.id_number[:6]} {person.id_number[6:14]}-{person.id_number[14:]}"
    for typed in (full_width, spaced):
        r = lookup(desk, typed)
        assert r.context["stage"] == "card" and r.context["person"] == person
        # The lookup field now shows the number as it is stored.
        assert r.context["lookup_form"]["id_number"].value() == person.id_number


def test_a_code_no_edition_ever_used_is_registered_with_a_visible_warning(desk):
    odd = make_id_number("990101", dt.date(1980, 1, 1), 11)
    r = lookup(desk, odd)
    assert r.context["stage"] == "register"
    assert "990101 is in no edition of the national division codes" in r.content.decode()
    r = desk.post(REGISTER, {"site": "KD-MASS", "id_number": odd, "name": "孙八", "division_code": "513301001"})
    assert r.context["stage"] == "card"
    assert 'data-testid="id-warning"' in r.content.decode()


def test_birth_year_before_1900_is_refused_at_the_desk(desk):
    r = lookup(desk, make_id_number("513301", dt.date(1899, 12, 31), 11))
    assert r.context["stage"] == "ready"
    assert "before 1900" in r.context["lookup_form"].errors["id_number"][0]


# -- lots and refusals ---------------------------------------------------------------------------


def test_quarantined_lot_is_refused_with_the_reason(desk, person):
    card = choose(desk, lookup(desk, person.id_number), "BIBP")
    r = desk.post(RECORD, dose_fields(card, lot="B2021Q01"))
    assert r.context["stage"] == "card"
    assert r.context["dose_form"].errors["lot"] == ["Lot B2021Q01 is quarantined and must not be used."]
    assert 'data-testid="lot-error"' in r.content.decode()
    assert not DoseRecord.objects.exists()
    assert r.context["dose_form"]["client_uuid"].value() == card.context["dose_form"]["client_uuid"].value()
    assert desk.post(RECORD, dose_fields(card, lot="B2021001")).context["stage"] == "done"


@pytest.mark.parametrize("lot", ["B2020999", "C2021001", "NOPE"])
def test_unusable_lots_are_refused_next_to_the_lot(desk, person, lot):
    card = choose(desk, lookup(desk, person.id_number), "BIBP")
    r = desk.post(RECORD, dose_fields(card, lot=lot))
    assert r.context["dose_form"].errors["lot"] and f"Lot {lot}" in r.context["dose_form"].errors["lot"][0]
    assert not DoseRecord.objects.exists()


def test_a_product_without_usable_lots_cannot_be_recorded(desk, person):
    r = choose(desk, lookup(desk, person.id_number), "AD5")
    assert r.context["lots"] == [] and r.context["can_record"] is False
    body = r.content.decode()
    assert 'data-testid="no-lot"' in body and 'data-testid="record"' not in body


def test_a_site_outside_the_users_sites_is_refused(desk, person):
    r = desk.post(LOOKUP, {"site": "LD-MASS", "id_number": person.id_number})
    assert r.context["stage"] == "ready" and r.context["lookup_form"].errors["site"]


def test_htmx_requests_get_only_the_desk_part(desk, person):
    body = lookup(desk, person.id_number, **HTMX).content.decode()
    assert body.lstrip().startswith('<section id="desk-work"') and "<html" not in body
    assert "<html" in lookup(desk, person.id_number).content.decode()


# -- registration --------------------------------------------------------------------------------


def test_registration_errors_are_shown_next_to_their_fields_and_keep_the_birth_date(desk):
    base = {"site": "KD-MASS", "id_number": NEW_ID, "division_code": "513301001"}
    r = desk.post(REGISTER, {**base, "name": "", "phone": ""})
    assert r.context["register_form"].errors["name"][0].startswith("Enter the person's name.")
    assert "From the ID number: born 4 March 1985, male." in r.content.decode()
    r = desk.post(REGISTER, {**base, "name": "赵六", "phone": "12345"})
    assert r.context["register_form"].errors["phone"]
    assert "From the ID number: born 4 March 1985, male." in r.content.decode()
    # What was typed stays in the form.
    assert r.context["register_form"]["name"].value() == "赵六"
    assert not Person.objects.exists()


def test_registration_asks_for_home_division_priority_groups_and_phone(desk):
    r = lookup(desk, NEW_ID)
    body = r.content.decode()
    assert 'name="division_q"' in body and 'name="division_code"' in body
    assert 'name="phone"' in body
    # Priority groups are the registry's rows, in their rank order.
    from vaxops.registry.models import PriorityGroup

    codes = [c for c, _ in r.context["register_form"].fields["priority_groups"].choices]
    assert codes == list(PriorityGroup.objects.values_list("code", flat=True))
    assert "teachers" in body
    # The site's own division is chosen to begin with.
    assert [d["code"] for d in r.context["divisions"] if d["checked"]] == ["513301"]


def test_division_picker_searches_only_the_users_area(desk):
    found = desk.get(DIVISIONS, {"site": "KD-MASS", "division_q": "Lucheng"}, **HTMX)
    assert [d["code"] for d in found.context["divisions"]] == ["513301001"]
    assert "Kangding" in found.content.decode()  # the label names the county too
    elsewhere = desk.get(DIVISIONS, {"site": "KD-MASS", "division_q": "Luqiao"}, **HTMX)
    assert elsewhere.context["divisions"] == []
    by_code = desk.get(DIVISIONS, {"site": "KD-MASS", "division_q": "513322"}, **HTMX)
    assert by_code.context["divisions"] == []


def test_a_division_outside_the_area_is_refused_next_to_the_field(desk):
    r = desk.post(REGISTER, {"site": "KD-MASS", "id_number": NEW_ID, "name": "赵六", "division_code": "513322001"})
    assert r.context["stage"] == "register"
    assert r.context["register_form"].errors["division_code"]
    assert not Person.objects.exists()


# -- overrides -----------------------------------------------------------------------------------


@pytest.fixture
def deferred(world):
    """Someone with a short deferral: the rules say "not yet", which a site manager may override."""
    p = make_person(world, seq=301, name="钱七")
    today = timezone.localdate()
    Deferral.objects.create(person=p, code="acute_illness", since=today - dt.timedelta(days=1),
                            until=today + dt.timedelta(days=3))
    return p


def test_vaccinator_cannot_override_a_refusal(desk, deferred):
    r = choose(desk, lookup(desk, deferred.id_number), "BIBP")
    assert r.context["verdict"].status == "not_yet"
    assert r.context["can_override"] is False and r.context["can_record"] is False
    body = r.content.decode()
    assert "override_reason" not in body and 'data-testid="record"' not in body
    assert "Vaccination is deferred" in body


def test_site_manager_overrides_a_refusal_with_a_written_reason(manager, deferred):
    card = choose(manager, lookup(manager, deferred.id_number), "BIBP")
    assert card.context["can_override"] is True
    assert 'name="override_reason"' in card.content.decode()
    r = manager.post(RECORD, dose_fields(card, override_reason="  "))
    assert r.context["dose_form"].errors["override_reason"] == ["Write the reason for giving a dose the rules refuse."]
    r = manager.post(RECORD, dose_fields(card, override_reason="Fever gone; examined by the site doctor."))
    assert r.context["stage"] == "done"
    assert DoseRecord.objects.get(person=deferred).override_reason == "Fever gone; examined by the site doctor."


def test_the_override_box_is_offered_only_when_the_seam_says_so(manager, deferred, monkeypatch):
    from vaxops.vaccination import desk as desk_views

    monkeypatch.setattr(desk_views, "is_overridable", lambda verdict: False)
    card = choose(manager, lookup(manager, deferred.id_number), "BIBP")
    assert card.context["can_override"] is False
    assert 'name="override_reason"' not in card.content.decode()


# -- the site's own day --------------------------------------------------------------------------


def _dose(world, person, *, product="BIBP", lot="B2021001", site="KD-MASS", user="vaccinator", at=None):
    card_in_hand(world, user, person)
    return record_dose(client_uuid=uuid.uuid4(), person_id=person.pk, product_code=product, lot_number=lot,
                       site_code=site, acting_user=world.users[user], administered_at=at or timezone.now(),
                       source="api")[0]


def test_the_site_sees_its_day_by_dose_and_hour(desk, world):
    now = timezone.localtime()
    hour = now.replace(minute=0, second=0, microsecond=0)
    a = make_person(world, seq=501, name="甲")
    b = make_person(world, seq=502, name="乙")
    c = make_person(world, seq=503, name="丙")
    _dose(world, a, at=now - dt.timedelta(days=30))  # an earlier day: not today's
    _dose(world, a, at=hour)
    _dose(world, b, at=hour)
    _dose(world, c, site="LD-MASS", user="vaccinator_ld", at=hour)  # another site
    day = desk.get(DESK).context["day"]
    assert (day["total"], day["first"], day["second"], day["booster"]) == (2, 1, 1, 0)
    assert [(h["hour"], h["total"]) for h in day["per_hour"]] == [(hour.hour, 2)]
    assert {d.person.name for d in day["latest"]} == {"甲", "乙"}


def test_the_last_ten_records_are_listed_newest_first(desk, world):
    now = timezone.now()
    for i in range(12):
        _dose(world, make_person(world, seq=600 + i, name="P" + chr(65 + i)), at=now - dt.timedelta(seconds=12 - i))  # seconds: all on the same local day
    latest = desk.get(DESK).context["day"]["latest"]
    assert [d.person.name for d in latest] == ["P" + chr(65 + i) for i in range(11, 1, -1)]


def test_site_manager_undoes_a_record_with_a_written_reason(manager, world, person):
    dose = _dose(world, person)
    body = manager.get(DESK).content.decode()
    assert f'name="dose_id" value="{dose.pk}"' in body
    r = manager.post(VOID, {"site": "KD-MASS", "dose_id": dose.pk, "reason": ""})
    assert r.status_code == 422 and r.context["day_error"] == "Write why the record is being voided."
    dose.refresh_from_db()
    assert dose.status == "valid"
    r = manager.post(VOID, {"site": "KD-MASS", "dose_id": dose.pk, "reason": "Wrong person"})
    dose.refresh_from_db()
    assert (dose.status, dose.void_reason) == ("voided", "Wrong person")
    assert r.context["day"]["total"] == 0
    assert AuditEvent.objects.filter(action="dose.void", source="web").exists()


def test_a_vaccinator_gets_no_undo_and_cannot_void(desk, world, person):
    dose = _dose(world, person)
    body = desk.get(DESK).content.decode()
    assert 'name="dose_id"' not in body and "Undo" not in body
    r = desk.post(VOID, {"site": "KD-MASS", "dose_id": dose.pk, "reason": "oops"})
    assert r.status_code == 403
    dose.refresh_from_db()
    assert dose.status == "valid"


def test_a_site_manager_cannot_void_another_sites_record(manager, world):
    other = _dose(world, make_person(world, seq=701, county="513322"), site="LD-MASS", user="vaccinator_ld")
    r = manager.post(VOID, {"site": "KD-MASS", "dose_id": other.pk, "reason": "not mine"})
    assert r.status_code == 404
    other.refresh_from_db()
    assert other.status == "valid"
