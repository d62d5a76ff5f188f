"""People cannot be harvested through the desk: a card is drawn only for the exact ID number
typed at the desk, and for someone outside the user's area it shows only what the dose needs.

Each test posts what a script would post to the desk's record form (the person id the old form
carried, and the ID-number field the form carries now) and looks for the full ID numbers and
phones of people the user could not see before.
"""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings
from django.urls import reverse

from conftest import make_person
from vaxops.vaccination.models import DoseRecord

LOOKUP = reverse("web:desk_lookup")
RECORD = reverse("web:desk_record")
CARD = reverse("web:desk_card")


@pytest.fixture
def desk(client, world):
    client.force_login(world.users["vaccinator"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def luding(world):
    """Residents of another county (Luding), with phones."""
    return [
        make_person(world, seq=800 + i, county="513322", name="泸定" + "甲乙丙丁戊己庚辛壬癸"[i % 10], phone=f"1390000{800 + i:04d}")
        for i in range(5)
    ]


def leaked(body: str, people) -> list[str]:
    return [v for p in people for v in (p.id_number, p.phone) if v and v in body]


def record_post(person_id, *, lot="B2021Q01", id_number="", client_uuid=None, **extra):
    return {"site": "KD-MASS", "product": "BIBP", "lot": lot, "person_id": person_id, "id_number": id_number,
            "client_uuid": str(client_uuid or uuid.uuid4()), **extra}


def test_a_refused_lot_with_a_run_of_person_ids_shows_no_one_elses_card(desk, luding):
    first = min(p.pk for p in luding)
    for pk in range(first - 2, first + len(luding) + 2):
        r = desk.post(RECORD, record_post(pk))
        assert r.status_code < 500
        assert leaked(r.content.decode(), luding) == []
    assert not DoseRecord.objects.exists()


def test_an_incomplete_form_with_a_person_id_shows_no_card(desk, luding):
    for data in (
        {"site": "KD-MASS", "product": "BIBP", "person_id": luding[0].pk},
        {"site": "KD-MASS", "person_id": luding[0].pk, "lot": "B2021001", "client_uuid": "not-a-uuid"},
        record_post(luding[0].pk, site="LD-MASS", id_number=luding[0].id_number),
    ):
        body = desk.post(RECORD, data).content.decode()
        assert leaked(body, luding) == [] and 'data-testid="person-card"' not in body


def test_a_replayed_form_shows_no_other_persons_card(desk, world, luding):
    mine = make_person(world, seq=900, name="康定")
    card = desk.post(CARD, {"site": "KD-MASS", "id_number": mine.id_number, "product": "BIBP",
                            "client_uuid": str(uuid.uuid4())})
    form = card.context["dose_form"]
    done = desk.post(RECORD, {"site": "KD-MASS", "id_number": mine.id_number, "product": "BIBP",
                              "lot": "B2021001", "client_uuid": form["client_uuid"].value()})
    assert done.context["stage"] == "done"
    # The same submission ID again, pointed at other people by id: nothing of theirs comes back.
    for p in luding:
        body = desk.post(RECORD, record_post(p.pk, lot="B2021001", client_uuid=form["client_uuid"].value())).content
        assert leaked(body.decode(), luding) == []
    assert DoseRecord.objects.count() == 1


def test_an_out_of_area_person_reached_by_exact_id_is_shown_masked(desk, luding):
    p = luding[0]
    r = desk.post(LOOKUP, {"site": "KD-MASS", "id_number": p.id_number})
    assert r.context["stage"] == "card" and r.context["masked"] is True
    body = r.content.decode()
    card = body[body.index('data-testid="person-card"'):]
    assert p.phone not in body
    assert p.id_number_masked in card and 'data-testid="full-id"' not in card
    assert 'data-testid="masked-note"' in card
    # The dose can still be given: a traveller is vaccinated where they are.
    r = desk.post(RECORD, {**record_post("", lot="B2021001", id_number=p.id_number)})
    assert r.context["stage"] == "done"
    assert p.phone not in r.content.decode()


def test_a_refused_lot_for_an_out_of_area_exact_id_redraws_only_the_masked_card(desk, luding):
    p = luding[1]
    r = desk.post(RECORD, record_post(luding[2].pk, id_number=p.id_number))
    body = r.content.decode()
    assert r.context["stage"] == "card" and r.context["person"] == p and r.context["masked"] is True
    assert leaked(body[body.index('id="desk-work"'):].replace(f'value="{p.id_number}"', ""), luding) == []


def test_an_in_area_person_shows_the_full_card(desk, world):
    p = make_person(world, seq=901, name="康定人", phone="13911112222")
    r = desk.post(LOOKUP, {"site": "KD-MASS", "id_number": p.id_number})
    body = r.content.decode()
    assert r.context["masked"] is False
    assert f'data-testid="full-id">{p.id_number}<' in body and "13911112222" in body
