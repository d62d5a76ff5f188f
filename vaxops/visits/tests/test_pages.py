"""The visit pages through the Django client: the desk's steps, the board with its what-if, the
public big screen by signed token (no login, no personal data) and the site figures."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from vaxops.visits import services as sv
from vaxops.visits.models import StationCount, Visit
from vaxops.visits.views import screen_token

from .conftest import at, new_uuid, open_session


def _login(client, world, role):
    client.force_login(world.users[role])
    client.cookies["django_language"] = "en"


def today_session(world):
    return open_session(world.sites["KD-MASS"], day=dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date())


def test_the_desk_moves_a_visit_through_every_step(client, world, person):
    session = today_session(world)
    _login(client, world, "vaccinator")
    r = client.get(reverse("visits:desk", args=[session.pk]))
    assert r.status_code == 200 and b"Check-in" in r.content
    r = client.post(reverse("visits:desk_check_in", args=[session.pk]),
                    {"id_number": person.id_number, "client_uuid": new_uuid()})
    assert b"Ticket 1" in r.content
    v = Visit.objects.get()
    r = client.post(reverse("visits:desk_step", args=[v.pk, "screen"]), {"outcome": "pass", "q_allergy": ""})
    assert b"screened" in r.content
    v.refresh_from_db()
    assert v.status == "screened" and v.screening_answers["allergy"] is False
    r = client.post(reverse("visits:desk_step", args=[v.pk, "vaccinate"]),
                    {"lot": "BIBP|B2021001", "client_uuid": new_uuid()})
    assert b"observation until" in r.content, r.content.decode()[:3000]
    v.refresh_from_db()
    assert v.status == "in_observation"
    assert b'data-testid="release" disabled' in r.content or b"disabled data-testid=\"release\"" in r.content
    r = client.post(reverse("visits:desk_step", args=[v.pk, "release"]))
    assert b"Observation is not over" in r.content
    Visit.objects.filter(pk=v.pk).update(observation_until=v.vaccinated_at - dt.timedelta(minutes=1))
    r = client.post(reverse("visits:desk_step", args=[v.pk, "release"]))
    assert b"released" in r.content
    assert Visit.objects.get().status == "released"


def test_the_desk_defers_with_the_suggested_reason(client, world, person):
    session = today_session(world)
    _login(client, world, "vaccinator")
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=world.users["vaccinator"])
    client.post(reverse("visits:desk_step", args=[v.pk, "screen"]), {"outcome": "defer", "q_pregnancy": "yes"})
    v.refresh_from_db()
    assert v.status == "deferred" and v.deferral.code == "pregnancy"


def test_the_desk_in_chinese(client, world, person):
    session = today_session(world)
    client.force_login(world.users["vaccinator"])
    r = client.get(reverse("visits:desk", args=[session.pk]))
    assert "签到".encode() in r.content


def test_unknown_id_number_points_to_the_site_desk(client, world):
    session = today_session(world)
    _login(client, world, "vaccinator")
    from vaxops.registry.idnumber import make_id_number

    r = client.post(reverse("visits:desk_check_in", args=[session.pk]),
                    {"id_number": make_id_number("513301", dt.date(1990, 1, 1), 555), "client_uuid": new_uuid()})
    assert b"Register at the site desk" in r.content and not Visit.objects.exists()


def test_desk_and_board_access(client, world, session):
    for role, desk, board in [("vaccinator", 200, 200), ("county_command", 403, 200), ("supervisor", 403, 200),
                              ("grid_worker", 403, 403), ("vaccinator_ld", 404, 404), ("county_command_ld", 403, 404)]:
        client.force_login(world.users[role])
        assert client.get(reverse("visits:desk", args=[session.pk])).status_code == desk, role
        assert client.get(reverse("visits:board", args=[session.pk])).status_code == board, role


def test_the_board_shows_counts_and_runs_the_what_if(client, world, session, person):
    sv.check_in(session, person, client_uuid=new_uuid(), acting_user=world.users["vaccinator"], at=at(9))
    _login(client, world, "site_manager")
    r = client.get(reverse("visits:board", args=[session.pk]), {"at": "09:30"})
    assert r.status_code == 200 and b'data-testid="waiting-count">1<' in r.content
    r = client.get(reverse("visits:board_counts", args=[session.pk]), {"at": "09:30"})
    assert b'data-testid="waiting-count">1<' in r.content and b"<html" not in r.content
    r = client.post(reverse("visits:board_stations", args=[session.pk]),
                    {"screening": "2", "vaccination": "3", "observation": "40"}, HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and b"Saved" in r.content
    assert dict(StationCount.objects.values_list("stage", "count")) == {"screening": 2, "vaccination": 3,
                                                                      "observation": 40}
    r = client.post(reverse("visits:board_whatif", args=[session.pk]),
                    {"extra_vaccination": "1", "until": "10:30", "at": "09:30"}, HTTP_HX_REQUEST="true")
    assert b"With 4 vaccination stations the queue clears at" in r.content, r.content.decode()
    assert b"will be done by 10:30" in r.content


def test_the_big_screen_needs_no_login_shows_counts_only_in_chinese(client, world, session, person):
    sv.check_in(session, person, client_uuid=new_uuid(), acting_user=world.users["vaccinator"], at=at(9))
    r = client.get(reverse("visits:screen", args=[screen_token(session, at(9, 30))]))
    assert r.status_code == 200
    text = r.content.decode()
    assert 'data-testid="waiting-count">1<' in text and "等候" in text
    assert person.name not in text and person.id_number not in text
    assert client.get(reverse("visits:screen", args=["1"])).status_code == 404
    assert client.get(reverse("visits:screen", args=[screen_token(session)[:-2] + "xx"])).status_code == 404


def test_the_figures_page_puts_measured_and_predicted_side_by_side(client, world, session, person):
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9))
    sv.screen(v, outcome="pass", acting_user=user, at=at(9, 5))
    sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 12))
    _login(client, world, "county_command")
    r = client.get(reverse("visits:figures", args=[session.pk]))
    assert r.status_code == 200
    text = r.content.decode()
    assert 'data-testid="doses">1<' in text and 'data-testid="mean-wait">12.0<' in text
    assert "09:00 (1)" in text and "the simulator predicts" in text
