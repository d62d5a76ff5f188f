"""The visits API as a device or desk uses it: check-in, screening, the dose with visit_id,
release before and after observation, leaving, the board and the what-if."""

from __future__ import annotations

import datetime as dt
import uuid

from conftest import dose_body
from vaxops.visits.models import Visit

from .conftest import at, open_session


def _through_vaccination(api, world, session, person, when):
    a = api(world.tokens["vaccinator"])
    r = a.post(f"/sessions/{session.pk}/visits", {"client_uuid": str(uuid.uuid4()), "person_id": person.pk})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["ticket"] == 1 and body["status"] == "waiting"
    visit_id = body["id"]
    r = a.post(f"/visits/{visit_id}/screening", {"outcome": "pass", "answers": {"allergy": False}})
    assert r.status_code == 200 and r.json()["status"] == "screened"
    r = a.post("/doses", dose_body(person.pk, at=when.isoformat(), visit_id=visit_id))
    assert r.status_code == 201, r.json()
    return a, visit_id, r.json()


def test_check_in_screen_dose_and_release_through_the_api(api, world, person):
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    session = open_session(world.sites["KD-MASS"], day=now.astimezone(dt.timezone(dt.timedelta(hours=8))).date())
    a, visit_id, dose = _through_vaccination(api, world, session, person, now - dt.timedelta(minutes=10))
    visit = Visit.objects.get(pk=visit_id)
    assert visit.dose_id == dose["id"] and visit.status == "in_observation"
    r = a.post(f"/visits/{visit_id}/release")
    assert r.status_code == 409 and r.json()["code"] == "observation_not_finished"
    Visit.objects.filter(pk=visit_id).update(observation_until=now - dt.timedelta(minutes=1))
    r = a.post(f"/visits/{visit_id}/release")
    assert r.status_code == 200 and r.json()["status"] == "released"
    board = a.get(f"/sessions/{session.pk}/board").json()
    assert board["released"] == 1 and board["vaccinated"] == 1 and board["waiting"] == 0
    assert set(board) >= {"waiting", "in_screening", "in_observation", "overdue_in_observation", "vaccinated",
                          "released", "arrivals_last_hour", "throughput_last_hour", "expected_wait_minutes",
                          "queue_clears_at"}


def test_a_retried_check_in_answers_200_with_the_same_ticket(api, world, person, session):
    a = api(world.tokens["vaccinator"])
    body = {"client_uuid": str(uuid.uuid4()), "person_id": person.pk}
    first = a.post(f"/sessions/{session.pk}/visits", body)
    again = a.post(f"/sessions/{session.pk}/visits", body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]


def test_check_in_at_a_closed_session_is_409(api, world, person):
    s = open_session(world.sites["KD-MASS"], status="closed")
    r = api(world.tokens["vaccinator"]).post(f"/sessions/{s.pk}/visits",
                                             {"client_uuid": str(uuid.uuid4()), "person_id": person.pk})
    assert r.status_code == 409 and r.json()["code"] == "session_not_open"
    assert not Visit.objects.exists()


def test_screening_a_vaccinated_visit_is_409(api, world, person, session):
    a, visit_id, _ = _through_vaccination(api, world, session, person, at(9, 10))
    r = a.post(f"/visits/{visit_id}/screening", {"outcome": "defer", "contraindication": "allergy"})
    assert r.status_code == 409 and r.json()["code"] == "visit_already_vaccinated"


def test_a_dose_for_a_visit_of_another_site_or_person_is_refused(api, world, person, session):
    a = api(world.tokens["vaccinator"])
    v = a.post(f"/sessions/{session.pk}/visits", {"client_uuid": str(uuid.uuid4()), "person_id": person.pk}).json()
    a.post(f"/visits/{v['id']}/screening", {"outcome": "pass"})
    r = a.post("/doses", dose_body(person.pk, site="KD-THC", visit_id=v["id"]))
    assert r.status_code == 409 and r.json()["code"] == "visit_wrong_site"
    r = a.post("/doses", dose_body(person.pk + 999, visit_id=v["id"]))
    assert r.status_code == 409 and r.json()["code"] == "visit_person_mismatch"


def test_a_dose_for_an_unscreened_visit_is_refused(api, world, person, session):
    a = api(world.tokens["vaccinator"])
    v = a.post(f"/sessions/{session.pk}/visits", {"client_uuid": str(uuid.uuid4()), "person_id": person.pk}).json()
    r = a.post("/doses", dose_body(person.pk, visit_id=v["id"]))
    assert r.status_code == 409 and r.json()["code"] == "visit_not_screened"


def test_defer_and_leave_through_the_api(api, world, person, session):
    a = api(world.tokens["vaccinator"])
    v = a.post(f"/sessions/{session.pk}/visits", {"client_uuid": str(uuid.uuid4()), "person_id": person.pk}).json()
    r = a.post(f"/visits/{v['id']}/screening", {"outcome": "defer", "contraindication": "pregnancy",
                                                "until": "2099-01-01"})
    assert r.status_code == 200 and r.json()["status"] == "deferred" and r.json()["deferral_id"]
    r = a.post(f"/visits/{v['id']}/leave")
    assert r.status_code == 409 and r.json()["code"] == "visit_finished"


def test_bad_screening_bodies_are_422(api, world, person, session):
    a = api(world.tokens["vaccinator"])
    v = a.post(f"/sessions/{session.pk}/visits", {"client_uuid": str(uuid.uuid4()), "person_id": person.pk}).json()
    for body, code in [({"outcome": "defer"}, "contraindication_required"),
                       ({"outcome": "defer", "contraindication": "flu"}, "invalid_contraindication"),
                       ({"outcome": "later"}, "invalid_request")]:
        r = a.post(f"/visits/{v['id']}/screening", body)
        assert r.status_code == 422 and r.json()["code"] == code


def test_what_if_answers_with_done_by_and_queue_clears_at(api, world, person, session):
    from vaxops.visits.services import check_in

    check_in(session, person, client_uuid=uuid.uuid4(), acting_user=world.users["vaccinator"], at=at(9))
    r = api(world.tokens["site_manager"]).post(
        f"/sessions/{session.pk}/what-if",
        {"extra_stations": {"vaccination": 1}, "until": "10:30", "at": at(9, 30).isoformat()})
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["stations"]["vaccination"] == 5
    # The one person inside needs two short services and 30 minutes' observation: done by 10:30,
    # not by 10:00.
    done = {p["at"][:16]: p["count"] for p in body["done_by"]}
    assert done["2021-05-11T10:00"] == 0 and done["2021-05-11T10:30"] >= 1
    assert body["queue_clears_at"].startswith("2021-05-11T09:3")
    r = api(world.tokens["vaccinator"]).post(f"/sessions/{session.pk}/what-if", {})
    assert r.status_code == 403
    r = api(world.tokens["site_manager"]).post(f"/sessions/{session.pk}/what-if",
                                               {"extra_stations": {"parking": 1}})
    assert r.status_code == 422 and r.json()["code"] == "invalid_stage"


def test_the_board_of_another_county_is_not_found(api, world, session):
    assert api(world.tokens["county_command_ld"]).get(f"/sessions/{session.pk}/board").status_code == 404
    assert api(world.tokens["county_command"]).get(f"/sessions/{session.pk}/board").status_code == 200
    assert api(world.tokens["grid_worker"]).get(f"/sessions/{session.pk}/board").status_code == 403
