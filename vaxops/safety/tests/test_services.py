"""Reporting an AEFI: the clocks, the refusals (nothing written), replays, the steps of the
investigation and the one-click quarantine of a cluster's lots."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.safety.models import AefiReport, AefiStatus
from vaxops.safety.services import classify, close, investigate, report_aefi, triage
from vaxops.safety.tests.helpers import dose, person, report_args

H = dt.timedelta(hours=1)


def test_serious_case_is_due_two_hours_after_detection(world):
    d = dose(world)
    r = report_aefi(**report_args(d, events=["anaphylaxis"], serious=True, serious_criteria=["life_threatening"]),
                    acting_user=world.users["vaccinator"])
    assert r.report_due_by - r.detected_at == 2 * H
    assert r.status == AefiStatus.REPORTED
    assert (r.site, r.lot, r.product.code, r.vaccinated_at) == (d.site, d.lot, "BIBP", d.administered_at)
    assert r.vaccinator_id == d.vaccinator_id and r.reporter == world.users["vaccinator"]


def test_death_is_due_in_two_hours_and_an_ordinary_case_in_48(world):
    d = dose(world)
    death = report_aefi(**report_args(d, events=["anaphylactic_shock"], serious=True, serious_criteria=["death"],
                                      outcome="fatal"), acting_user=world.users["vaccinator"])
    fever = report_aefi(**report_args(dose(world)), acting_user=world.users["vaccinator"])
    assert death.report_due_by - death.detected_at == 2 * H
    assert fever.report_due_by - fever.detected_at == 48 * H
    assert fever.investigation_due_by - fever.reported_at == 48 * H


def test_a_report_is_overdue_until_the_county_takes_it_in(world):
    from vaxops.safety.rules import is_overdue

    r = report_aefi(**report_args(dose(world), serious=True, serious_criteria=["hospitalisation"]),
                    acting_user=world.users["vaccinator"])
    due = r.report_due_by
    assert not is_overdue(status=r.status, report_due_by=due, now=due)
    assert is_overdue(status=r.status, report_due_by=due, now=due + dt.timedelta(seconds=1))
    r = triage(r, acting_user=world.users["supervisor"])
    assert not is_overdue(status=r.status, report_due_by=due, now=due + 10 * H)


@pytest.mark.parametrize(("change", "code"), [
    ({"onset_at": "before_dose"}, "aefi_onset_before_dose"),
    ({"detected_before_onset": True}, "aefi_detected_before_onset"),
    ({"events": ["fever_39"]}, "aefi_unknown_event"),
    ({"events": []}, "aefi_events_required"),
    ({"serious": True}, "aefi_criteria_required"),
    ({"serious_criteria": ["death"]}, "aefi_criteria_not_serious"),
    ({"serious_criteria": ["bad_luck"], "serious": True}, "aefi_unknown_criterion"),
    ({"outcome": "fine"}, "aefi_unknown_outcome"),
    ({"outcome": "fatal"}, "aefi_fatal_without_death"),
    ({"signs": ["sneezing", "glowing"]}, "aefi_unknown_sign"),
    ({"future": True}, "aefi_in_future"),
    ({"other_person": True}, "aefi_dose_of_another_person"),
    ({"description": "x" * 4001}, "aefi_text_too_long"),
])
def test_bad_reports_are_refused_and_write_nothing(world, change, code):
    d = dose(world)
    args = report_args(d)
    if change.pop("onset_at", None):
        args["onset_at"] = d.administered_at - dt.timedelta(minutes=1)
        args["detected_at"] = d.administered_at + H
    if change.pop("detected_before_onset", None):
        args["detected_at"] = args["onset_at"] - dt.timedelta(minutes=1)
    if change.pop("future", None):
        args["at"] = args["detected_at"] - H
    if change.pop("other_person", None):
        args["person"] = person(world)
    args.update(change)
    audits = AuditEvent.objects.count()
    with pytest.raises(VaxopsError) as exc:
        report_aefi(**args, acting_user=world.users["vaccinator"])
    assert exc.value.code == code
    assert exc.value.status == 422
    assert AefiReport.objects.count() == 0 and AuditEvent.objects.count() == audits


@pytest.mark.parametrize("year", [1, 1900, 9999])
def test_a_time_the_database_cannot_hold_is_refused(world, year):
    p = person(world)
    far = dt.datetime(year, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with pytest.raises(VaxopsError) as exc:
        report_aefi(client_uuid=uuid.uuid4(), person=p, onset_at=far, detected_at=far, events=["syncope"],
                    serious=False, acting_user=world.users["vaccinator"])
    assert exc.value.code == "invalid_datetime"


def test_a_dose_outside_the_reporters_site_is_not_found(world):
    d = dose(world, site="LD-MASS")
    with pytest.raises(VaxopsError) as exc:
        report_aefi(**report_args(d), acting_user=world.users["vaccinator"])
    assert exc.value.code == "dose_not_found"


def test_roles_that_may_not_report(world):
    d = dose(world)
    for role in ("grid_worker", "supply_officer", "prefecture_command", "admin"):
        with pytest.raises(VaxopsError) as exc:
            report_aefi(**report_args(d), acting_user=world.users[role])
        assert exc.value.code == "permission_denied"


def test_a_replay_returns_the_first_report_and_other_content_conflicts(world):
    d = dose(world)
    args = report_args(d)
    first = report_aefi(**args, acting_user=world.users["vaccinator"])
    again = report_aefi(**args, acting_user=world.users["vaccinator"])
    assert again.pk == first.pk and again.replayed and not first.replayed
    with pytest.raises(VaxopsError) as exc:
        report_aefi(**{**args, "events": ["syncope"]}, acting_user=world.users["vaccinator"])
    assert exc.value.code == "idempotency_conflict"
    assert AefiReport.objects.count() == 1


def test_a_report_without_a_dose_sits_at_the_reporters_site(world):
    p = person(world)
    at = dt.datetime(2021, 5, 10, 12, tzinfo=dt.UTC)
    r = report_aefi(client_uuid=uuid.uuid4(), person=p, onset_at=at, detected_at=at, events=["syncope"],
                    serious=False, acting_user=world.users["vaccinator"], at=at + H)
    assert r.site == world.sites["KD-MASS"] and r.lot is None and r.report_due_by == at + 48 * H


def test_anaphylaxis_carries_its_brighton_level(world):
    r = report_aefi(**report_args(dose(world), events=["anaphylaxis"], serious=True,
                                  serious_criteria=["life_threatening"],
                                  signs=["generalised_urticaria", "bilateral_wheeze"]),
                    acting_user=world.users["vaccinator"])
    assert r.brighton_level == 1
    fever = report_aefi(**report_args(dose(world), signs=["generalised_urticaria", "bilateral_wheeze"]),
                        acting_user=world.users["vaccinator"])
    assert fever.brighton_level is None  # not a report of anaphylaxis


def test_the_steps_go_in_order_and_a_wrong_step_is_409(world):
    sup = world.users["supervisor"]
    r = report_aefi(**report_args(dose(world)), acting_user=world.users["vaccinator"])
    for step in (investigate, close):
        with pytest.raises(VaxopsError) as exc:
            step(r, acting_user=sup)
        assert (exc.value.code, exc.value.status) == ("aefi_wrong_step", 409)
    with pytest.raises(VaxopsError) as exc:
        classify(r, who_category="A1", cn_category="general_reaction", acting_user=sup)
    assert exc.value.code == "aefi_wrong_step"
    r = triage(r, acting_user=sup)
    with pytest.raises(VaxopsError) as exc:
        triage(r, acting_user=sup)
    assert exc.value.code == "aefi_wrong_step"
    r = investigate(r, findings="Axillary 38.9 °C, settled in a day.", acting_user=sup)
    r = classify(r, who_category="a1", cn_category="一般反应", acting_user=sup)
    assert (r.who_category, r.cn_category, r.status) == ("A1", "general_reaction", "classified")
    r = close(r, acting_user=sup)
    assert r.status == AefiStatus.CLOSED and r.closed_by == sup
    actions = list(AuditEvent.objects.filter(object_type="safety.aefireport").order_by("pk")
                   .values_list("action", flat=True))
    assert actions == ["aefi.report", "aefi.triage", "aefi.investigate", "aefi.classify", "aefi.close"]


@pytest.mark.parametrize(("who", "cn", "level", "code"), [
    ("E", "general_reaction", None, "aefi_unknown_category"),
    ("A1", "bad", None, "aefi_unknown_category"),
    ("A1", "general_reaction", 6, "aefi_invalid_brighton_level"),
    ("A1", "general_reaction", 0, "aefi_invalid_brighton_level"),
])
def test_bad_classifications_are_refused(world, who, cn, level, code):
    sup = world.users["supervisor"]
    r = report_aefi(**report_args(dose(world)), acting_user=world.users["vaccinator"])
    investigate(triage(r, acting_user=sup), acting_user=sup)
    with pytest.raises(VaxopsError) as exc:
        classify(r, who_category=who, cn_category=cn, brighton_level=level, acting_user=sup)
    assert exc.value.code == code
    assert AefiReport.objects.get(pk=r.pk).status == "investigated"


def test_only_the_supervisor_moves_a_report_and_only_in_their_area(world):
    r = report_aefi(**report_args(dose(world)), acting_user=world.users["vaccinator"])
    for role in ("county_command", "site_manager", "vaccinator", "admin"):
        with pytest.raises(VaxopsError) as exc:
            triage(r, acting_user=world.users[role])
        assert exc.value.code == "permission_denied"
    with pytest.raises(VaxopsError) as exc:
        triage(r, acting_user=world.users["supervisor_ld"])
    assert exc.value.code == "aefi_not_found"


def test_a_replayed_history_keeps_the_times_of_its_steps(world):
    r = report_aefi(**report_args(dose(world), serious=True, serious_criteria=["hospitalisation"]),
                    acting_user=world.users["vaccinator"])
    taken_in = r.detected_at + dt.timedelta(minutes=40)
    r = triage(r, acting_user=world.users["supervisor"], at=taken_in)
    assert r.triaged_at == taken_in and r.triaged_at < r.report_due_by  # reported in time


def test_a_sessions_figures_count_its_aefi(world):
    from vaxops.safety.stats import session_figures
    from vaxops.sites.models import Session
    from vaxops.vaccination.models import DoseRecord

    d = dose(world)
    if d.session_id is None:  # a dose records its day's session (or will, with the sessions)
        DoseRecord.objects.filter(pk=d.pk).update(
            session=Session.objects.get_or_create(site=d.site, date=d.administered_at.date())[0])
    session = DoseRecord.objects.get(pk=d.pk).session
    report_aefi(**report_args(d), acting_user=world.users["vaccinator"])
    report_aefi(**report_args(d, serious=True, serious_criteria=["hospitalisation"]),
                acting_user=world.users["vaccinator"])
    assert session_figures(session) == {"aefi_reported": 2, "aefi_serious": 1}
