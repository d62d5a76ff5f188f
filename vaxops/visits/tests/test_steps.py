"""The visit steps one by one: check-in, screening, vaccination, observation, release, leaving,
and every refusal the issue names (a visit at a closed session, release before observation
ends, a screening on a visit already vaccinated)."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.registry.models import Deferral
from vaxops.vaccination.models import DoseRecord
from vaxops.visits import services as sv
from vaxops.visits.models import Visit, VisitStatus

from .conftest import at, new_uuid, open_session, people


def through_screening(world, session, person, minute=0):
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9, minute))
    return sv.screen(v, outcome="pass", answers={"allergy": False}, acting_user=user, at=at(9, minute + 2))


def test_a_visit_goes_through_every_step_with_its_times_and_people(world, session, person):
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9))
    assert (v.ticket, v.status, v.checked_in_by) == (1, VisitStatus.WAITING, user)
    v = sv.screen(v, outcome="pass", answers={"allergy": False, "pregnancy": False}, acting_user=user, at=at(9, 5))
    assert v.status == VisitStatus.SCREENED and v.screening_answers == {"allergy": False, "pregnancy": False}
    dose = sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    v.refresh_from_db()
    assert v.dose_id == dose.pk and v.status == VisitStatus.IN_OBSERVATION
    assert dose.site == world.sites["KD-MASS"] and dose.administered_at == at(9, 10)
    assert v.observation_until == at(9, 40)
    v = sv.release(v, acting_user=user, at=at(9, 40))
    assert v.status == VisitStatus.RELEASED and v.released_at == at(9, 40) and v.released_by == user
    actions = list(AuditEvent.objects.filter(object_type="visits.visit", object_id=str(v.pk))
                   .order_by("pk").values_list("action", flat=True))
    assert actions == ["visit.check_in", "visit.screen", "visit.vaccinate", "visit.release"]


def test_tickets_follow_check_ins(world, session):
    user = world.users["vaccinator"]
    visits = [sv.check_in(session, p, client_uuid=new_uuid(), acting_user=user, at=at(9, i))
              for i, p in enumerate(people(world, 3))]
    assert [v.ticket for v in visits] == [1, 2, 3]


def test_a_retried_check_in_returns_the_first_visit(world, session, person):
    user, key = world.users["vaccinator"], new_uuid()
    first = sv.check_in(session, person, client_uuid=key, acting_user=user, at=at(9))
    again = sv.check_in(session, person, client_uuid=key, acting_user=user, at=at(9, 1))
    assert again.pk == first.pk and Visit.objects.count() == 1


def test_a_person_under_way_cannot_check_in_twice(world, session, person):
    user = world.users["vaccinator"]
    sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9))
    with pytest.raises(VaxopsError) as exc:
        sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9, 1))
    assert exc.value.code == "visit_exists"


@pytest.mark.parametrize("status", ["planned", "closed"])
def test_a_visit_at_a_session_not_open_is_refused(world, person, status):
    s = open_session(world.sites["KD-MASS"], status=status)
    with pytest.raises(VaxopsError) as exc:
        sv.check_in(s, person, client_uuid=new_uuid(), acting_user=world.users["vaccinator"], at=at(9))
    assert exc.value.code == "session_not_open" and exc.value.status == 409
    assert not Visit.objects.exists()


def test_release_before_observation_ends_is_refused(world, session, person):
    user = world.users["vaccinator"]
    v = through_screening(world, session, person)
    sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    with pytest.raises(VaxopsError) as exc:
        sv.release(v, acting_user=user, at=at(9, 39, 59))
    assert exc.value.code == "observation_not_finished" and exc.value.status == 409
    v.refresh_from_db()
    assert v.status == VisitStatus.IN_OBSERVATION


def test_observation_length_is_the_campaigns(world, session, person, settings):
    settings.VAXOPS_OBSERVATION_MINUTES = 15
    v = through_screening(world, session, person)
    sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=world.users["vaccinator"], at=at(9, 10))
    v.refresh_from_db()
    assert v.observation_until == at(9, 25)


def test_screening_a_visit_already_vaccinated_is_refused(world, session, person):
    user = world.users["vaccinator"]
    v = through_screening(world, session, person)
    sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    for outcome in ("pass", "defer"):
        with pytest.raises(VaxopsError) as exc:
            sv.screen(v, outcome=outcome, contraindication="allergy", acting_user=user, at=at(9, 12))
        assert exc.value.code == "visit_already_vaccinated" and exc.value.status == 409
    assert not Deferral.objects.exists()


def test_a_second_dose_for_one_visit_is_refused(world, session, person):
    user = world.users["vaccinator"]
    v = through_screening(world, session, person)
    sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    with pytest.raises(VaxopsError) as exc:
        sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 11))
    assert exc.value.code == "visit_already_vaccinated"
    assert DoseRecord.objects.count() == 1


def test_a_dose_before_screening_is_refused(world, session, person):
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9))
    with pytest.raises(VaxopsError) as exc:
        sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    assert exc.value.code == "visit_not_screened"
    assert not DoseRecord.objects.exists()


def test_a_contraindication_becomes_a_deferral_with_its_reason_and_date(world, session, person):
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9))
    v = sv.screen(v, outcome="defer", contraindication="acute_illness", until=dt.date(2021, 5, 25),
                  answers={"acute_illness": True}, acting_user=user, at=at(9, 3))
    assert v.status == VisitStatus.DEFERRED
    d = Deferral.objects.get()
    assert (d.person_id, d.code, d.since, d.until) == (person.pk, "acute_illness", dt.date(2021, 5, 11),
                                                        dt.date(2021, 5, 25))
    assert v.deferral == d
    with pytest.raises(VaxopsError) as exc:
        sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    assert exc.value.code == "visit_finished"


@pytest.mark.parametrize("kwargs,code", [
    ({"outcome": "maybe"}, "invalid_request"),
    ({"outcome": "defer"}, "contraindication_required"),
    ({"outcome": "defer", "contraindication": "headache"}, "invalid_contraindication"),
    ({"outcome": "defer", "contraindication": "allergy", "until": dt.date(2021, 5, 11)}, "deferral_until_past"),
    ({"outcome": "pass", "answers": {"shoe_size": True}}, "invalid_screening_answer"),
    ({"outcome": "pass", "answers": {"allergy": "no"}}, "invalid_request"),
])
def test_bad_screening_input_is_refused_and_writes_nothing(world, session, person, kwargs, code):
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9))
    with pytest.raises(VaxopsError) as exc:
        sv.screen(v, acting_user=user, at=at(9, 3), **kwargs)
    assert exc.value.code == code
    v.refresh_from_db()
    assert v.status == VisitStatus.WAITING and not Deferral.objects.exists()


@pytest.mark.parametrize("step", ["waiting", "screened", "in_observation"])
def test_a_person_can_leave_at_any_step_and_the_step_is_kept(world, session, person, step):
    user = world.users["vaccinator"]
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=user, at=at(9))
    if step != "waiting":
        v = sv.screen(v, outcome="pass", acting_user=user, at=at(9, 2))
    if step == "in_observation":
        sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 5))
    v = sv.leave(v, acting_user=user, at=at(9, 20))
    assert (v.status, v.left_step, v.left_at) == (VisitStatus.LEFT, step, at(9, 20))
    with pytest.raises(VaxopsError) as exc:
        sv.release(v, acting_user=user, at=at(10))
    assert exc.value.code == "visit_wrong_step"


def test_staff_of_another_site_do_not_find_the_visit(world, session, person):
    v = sv.check_in(session, person, client_uuid=new_uuid(), acting_user=world.users["vaccinator"], at=at(9))
    with pytest.raises(VaxopsError) as exc:
        sv.screen(v, outcome="pass", acting_user=world.users["vaccinator_ld"], at=at(9, 1))
    assert exc.value.code == "visit_not_found"
    with pytest.raises(VaxopsError) as exc:
        sv.check_in(session, person, client_uuid=new_uuid(), acting_user=world.users["vaccinator_ld"], at=at(9))
    assert exc.value.code == "session_not_found"
    with pytest.raises(VaxopsError) as exc:
        sv.screen(v, outcome="pass", acting_user=world.users["county_command"], at=at(9, 1))
    assert exc.value.code == "permission_denied"


def test_the_dose_and_its_link_to_the_visit_commit_together_or_not_at_all(world, session, person, monkeypatch):
    user = world.users["vaccinator"]
    v = through_screening(world, session, person)
    doses_before = DoseRecord.objects.count()

    def broken(*args, **kwargs):
        raise VaxopsError("visit_already_vaccinated", {"id": v.pk})

    # The link's audit fails inside the dose's transaction: no dose, no link, no dose event.
    monkeypatch.setattr(sv, "_visit_audit", broken)
    with pytest.raises(VaxopsError):
        sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    assert DoseRecord.objects.count() == doses_before
    assert Visit.objects.get(pk=v.pk).status == VisitStatus.SCREENED
    assert not AuditEvent.objects.filter(action__in=["dose.record", "visit.vaccinate"]).exists()
    monkeypatch.undo()
    dose = sv.vaccinate(v, product_code="BIBP", lot_number="B2021001", acting_user=user, at=at(9, 10))
    assert Visit.objects.get(pk=v.pk).dose_id == dose.pk
    assert AuditEvent.objects.filter(action="dose.record").count() == 1
    assert AuditEvent.objects.filter(action="visit.vaccinate").count() == 1
