"""Units, staff, qualifications, rosters and deployments through their services."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.sites.models import SessionStatus
from vaxops.staff.models import Deployment, RosterEntry, Staff, StaffingPlan, Unit
from vaxops.staff.services import (
    add_qualification,
    add_qualifications,
    create_staff,
    create_staff_many,
    create_unit,
    deploy,
    set_planned_staff,
    set_roster,
    set_rosters,
    staff_hours,
)
from vaxops.staff.tests.helpers import DAY, make_crew, make_session


@pytest.fixture
def crew(world):
    return make_crew(world)


def test_units_carry_their_hospital_level_and_county(world, crew):
    unit = Unit.objects.get(code="KD-THC-H")
    assert unit.hospital_level == 1 and unit.county_code == "513301"
    assert AuditEvent.objects.filter(action="staff.unit.create").count() == 5


@pytest.mark.parametrize(("kw", "code"), [
    ({"kind": "cdc", "hospital_level": 2}, "invalid_hospital_level"),
    ({"kind": "hospital", "hospital_level": 4}, "invalid_hospital_level"),
    ({"kind": "hospital", "hospital_level": True}, "invalid_hospital_level"),
    ({"kind": "temple"}, "unknown_unit_kind"),
    ({"kind": "cdc", "name_zh": " "}, "unit_name_required"),
    ({"kind": "cdc", "code": "KD-HOSP"}, "unit_exists"),
    ({"kind": "cdc", "division_code": "999999"}, "division_not_found"),
])
def test_unit_refusals(world, crew, kw, code):
    args = {"code": "NEW", "name_zh": "新单位", "division_code": "513301", **kw}
    with pytest.raises(VaxopsError) as exc:
        create_unit(**args, acting_user=world.users["admin"])
    assert exc.value.code == code
    assert not Unit.objects.filter(code="NEW").exists()


def test_a_county_command_creates_units_only_in_its_county(world, crew):
    create_unit(code="KD-NEW", name_zh="康定新单位", kind="cdc", division_code="513301001",
                acting_user=world.users["county_command"])
    with pytest.raises(VaxopsError) as exc:
        create_unit(code="LD-NEW", name_zh="泸定新单位", kind="cdc", division_code="513322",
                    acting_user=world.users["county_command"])
    assert exc.value.code == "division_not_found"


@pytest.mark.parametrize(("row", "code"), [
    ({"name": ""}, "invalid_staff_name"), ({"name": "x" * 65}, "invalid_staff_name"),
    ({"role": "surgeon"}, "unknown_staff_role"), ({"phone": "12345"}, "invalid_phone"),
    ({"unit_code": "LD-HOSP"}, "unit_not_found"), ({"unit_code": "NOPE"}, "unit_not_found"),
])
def test_staff_refusals(world, crew, row, code):
    before = Staff.objects.count()
    args = {"name": "新人", "role": "nurse", "unit_code": "KD-HOSP", "phone": "", **row}
    with pytest.raises(VaxopsError) as exc:
        create_staff(**args, acting_user=world.users["site_manager"])
    assert exc.value.code == code
    assert Staff.objects.count() == before


def test_staff_in_bulk_all_or_nothing_one_audit(world, crew):
    rows = [{"name": f"支援{i:03d}", "role": "vaccinator" if i % 3 else "nurse", "unit_code": "KD-HOSP"}
            for i in range(320)]
    with pytest.raises(VaxopsError):
        create_staff_many([*rows, {"name": "x", "role": "nurse", "unit_code": "LD-HOSP"}],
                          acting_user=world.users["county_command"])
    assert not Staff.objects.filter(name__startswith="支援").exists()
    created = create_staff_many(rows, acting_user=world.users["county_command"])
    assert len(created) == 320 and all(s.pk for s in created)
    assert AuditEvent.objects.filter(action="staff.create_many").count() == 1


def test_qualification_rules(world, crew):
    admin = world.users["admin"]
    doctor = crew.staff["doctor"]
    add_qualification(doctor, kind="emergency_resuscitation", valid_until=dt.date(2022, 1, 1), acting_user=admin)
    for kw, code in [({"kind": "diving"}, "unknown_qualification_kind"),
                     ({"kind": "vaccination_training"}, "qualification_product_required"),
                     ({"kind": "vaccination_training", "product_code": "NOPE"}, "product_not_found"),
                     ({"kind": "emergency_resuscitation", "product_code": "BIBP"},
                      "qualification_product_not_applicable")]:
        with pytest.raises(VaxopsError) as exc:
            add_qualification(doctor, valid_until=dt.date(2022, 1, 1), acting_user=admin, **kw)
        assert exc.value.code == code
    with pytest.raises(VaxopsError) as exc:
        add_qualification(crew.staff["ld_doctor"], kind="emergency_resuscitation", valid_until=dt.date(2022, 1, 1),
                          acting_user=world.users["county_command"])
    assert exc.value.code == "staff_not_found"


# --- rosters -------------------------------------------------------------------------------------


def test_roster_replaces_and_keeps_roles(world, crew):
    s = make_session(world)
    cc = world.users["county_command"]
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["nurse"].pk], acting_user=cc)
    entries = set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk],
                         roles={crew.staff["doctor"].pk: "observer"}, acting_user=world.users["site_manager"])
    assert {(e.staff.name, e.role) for e in entries} == {("李医生", "observer"), ("王接种", "vaccinator")}
    event = AuditEvent.objects.filter(action="staff.roster.set").last()
    assert event.before["staff"] == sorted([crew.staff["doctor"].pk, crew.staff["nurse"].pk])


def test_staff_from_outside_the_county_need_a_deployment_covering_the_day(world, crew):
    s = make_session(world)
    ld = crew.staff["ld_doctor"]
    with pytest.raises(VaxopsError) as exc:
        set_roster(s, [crew.staff["doctor"].pk, ld.pk], acting_user=world.users["site_manager"])
    assert exc.value.code == "staff_not_deployed" and exc.value.status == 422
    assert exc.value.detail["staff"] == [ld.pk]
    assert not RosterEntry.objects.exists()
    # a deployment that ends the day before does not cover the session
    deploy([ld.pk], to_division="513301", starts_on=DAY - dt.timedelta(days=5), ends_on=DAY - dt.timedelta(days=1),
           reason="支援康定", acting_user=world.users["prefecture_command"])
    with pytest.raises(VaxopsError):
        set_roster(s, [ld.pk], acting_user=world.users["site_manager"])
    # a deployment to another site of the county does not either
    deploy([ld.pk], to_division="513301001", to_site="KD-THC", starts_on=DAY, ends_on=DAY, reason="支援卫生院",
           acting_user=world.users["prefecture_command"])
    with pytest.raises(VaxopsError):
        set_roster(s, [ld.pk], acting_user=world.users["site_manager"])
    deploy([ld.pk, crew.staff["mch_doctor"].pk], to_division="513301", starts_on=DAY, ends_on=DAY + dt.timedelta(days=6),
           reason="州妇幼保健院支援康定体育馆接种点", acting_user=world.users["prefecture_command"])
    entries = set_roster(s, [ld.pk, crew.staff["mch_doctor"].pk], acting_user=world.users["site_manager"])
    assert len(entries) == 2


def test_roster_refusals(world, crew):
    s = make_session(world)
    for ids, code in [([999999], "unknown_staff"), (["x"], "invalid_request"), ([True], "invalid_request"),
                      ([0], "invalid_request")]:
        with pytest.raises(VaxopsError) as exc:
            set_roster(s, ids, acting_user=world.users["site_manager"])
        assert exc.value.code == code
    with pytest.raises(VaxopsError) as exc:
        set_roster(s, [crew.staff["doctor"].pk], roles={crew.staff["doctor"].pk: "pilot"},
                   acting_user=world.users["site_manager"])
    assert exc.value.code == "unknown_staff_role"
    with pytest.raises(VaxopsError) as exc:
        set_roster(s, [crew.staff["doctor"].pk], acting_user=world.users["site_manager_ld"])
    assert exc.value.code == "session_not_found"
    for role in ("vaccinator", "admin", "prefecture_command", "supervisor"):
        with pytest.raises(VaxopsError) as exc:
            set_roster(s, [crew.staff["doctor"].pk], acting_user=world.users[role])
        assert exc.value.code == "permission_denied"
    s.status = SessionStatus.CLOSED
    s.save()
    with pytest.raises(VaxopsError) as exc:
        set_roster(s, [crew.staff["doctor"].pk], acting_user=world.users["site_manager"])
    assert exc.value.code == "roster_session_closed"
    assert not RosterEntry.objects.exists()


def test_rosters_in_bulk_follow_the_single_rules_and_one_refusal_writes_nothing(world, crew):
    a, b = make_session(world), make_session(world, date=DAY + dt.timedelta(days=1))
    manager = world.users["site_manager"]
    doctor, vaccinator, ld = crew.staff["doctor"].pk, crew.staff["vaccinator"].pk, crew.staff["ld_doctor"].pk
    with pytest.raises(VaxopsError) as exc:  # b names a Luding doctor without a deployment
        set_rosters({a: [doctor, vaccinator], b: [doctor, ld]}, acting_user=manager)
    assert exc.value.code == "staff_not_deployed" and exc.value.detail["staff"] == [ld]
    assert not RosterEntry.objects.exists() and not AuditEvent.objects.filter(action="staff.roster.set").exists()
    set_rosters({a: [doctor, vaccinator], b: [vaccinator]}, acting_user=manager)
    assert sorted(RosterEntry.objects.filter(session=a).values_list("staff_id", flat=True)) == sorted([doctor, vaccinator])
    assert list(RosterEntry.objects.filter(session=b).values_list("staff_id", flat=True)) == [vaccinator]
    events = AuditEvent.objects.filter(action="staff.roster.set").order_by("pk")
    assert [(e.object_id, e.after["staff"]) for e in events] == [
        (str(a.pk), sorted([doctor, vaccinator])), (str(b.pk), [vaccinator])]
    with pytest.raises(VaxopsError) as exc:  # a session outside the manager's site
        set_rosters({a: [doctor], make_session(world, site="LD-MASS"): [ld]}, acting_user=manager)
    assert exc.value.code == "session_not_found"
    assert RosterEntry.objects.filter(session=a).count() == 2


def test_qualifications_in_bulk_are_all_or_nothing(world, crew):
    admin = world.users["admin"]
    before = crew.staff["doctor"].qualifications.count()
    specs = [{"staff": crew.staff["doctor"].pk, "kind": "emergency_resuscitation", "valid_until": dt.date(2022, 1, 1)},
             {"staff": crew.staff["nurse"].pk, "kind": "vaccination_training", "valid_until": dt.date(2022, 1, 1)}]
    with pytest.raises(VaxopsError) as exc:
        add_qualifications(specs, acting_user=admin)
    assert exc.value.code == "qualification_product_required"
    assert crew.staff["doctor"].qualifications.count() == before
    specs[1]["product_code"] = "BIBP"
    made = add_qualifications(specs, acting_user=admin)
    assert [(q.staff_id, q.kind) for q in made] == [(crew.staff["doctor"].pk, "emergency_resuscitation"),
                                                    (crew.staff["nurse"].pk, "vaccination_training")]
    assert AuditEvent.objects.filter(action="staff.qualification.add", object_id__in=[str(q.pk) for q in made]).count() == 2
    with pytest.raises(VaxopsError) as exc:  # a Luding doctor is outside Kangding's command
        add_qualifications([specs[0], {**specs[0], "staff": crew.staff["ld_doctor"].pk}],
                           acting_user=world.users["county_command"])
    assert exc.value.code == "staff_not_found"


def test_staff_hours_are_roster_times_session_hours(world, crew):
    s = make_session(world, opens_at=dt.time(8, 30), closes_at=dt.time(17, 0))
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk, crew.staff["nurse"].pk],
               planned_staff=5, acting_user=world.users["site_manager"])
    assert staff_hours(s) == {"staff_hours": 25.5, "rostered_staff": 3}
    assert StaffingPlan.objects.get(session=s).planned_staff == 5
    set_planned_staff(s, 3, acting_user=world.users["county_command"])
    assert StaffingPlan.objects.get(session=s).planned_staff == 3
    with pytest.raises(VaxopsError) as exc:
        set_planned_staff(s, -1, acting_user=world.users["county_command"])
    assert exc.value.code == "invalid_planned_staff"


# --- deployments ---------------------------------------------------------------------------------


def test_deploy_refusals(world, crew):
    pc = world.users["prefecture_command"]
    ld = crew.staff["ld_doctor"].pk
    ok = {"to_division": "513301", "starts_on": DAY, "ends_on": DAY, "reason": "支援"}
    for kw, code in [
        ({"staff_ids": []}, "deployment_staff_required"),
        ({"staff_ids": [999999]}, "unknown_staff"),
        ({"to_division": "513300"}, "deployment_target_too_coarse"),
        ({"to_division": "000000"}, "division_not_found"),
        ({"ends_on": DAY - dt.timedelta(days=1)}, "deployment_dates_invalid"),
        ({"ends_on": DAY + dt.timedelta(days=400)}, "deployment_dates_invalid"),
        ({"reason": "  "}, "deployment_reason_required"),
        ({"to_site": "LD-MASS"}, "deployment_site_outside"),
        ({"to_site": "NOPE"}, "site_not_found"),
    ]:
        args = {"staff_ids": [ld], **ok, **kw}
        with pytest.raises(VaxopsError) as exc:
            deploy(args.pop("staff_ids"), **args, acting_user=pc)
        assert exc.value.code == code, kw
    # a county command deploys only its own staff
    with pytest.raises(VaxopsError) as exc:
        deploy([ld], **ok, acting_user=world.users["county_command"])
    assert exc.value.code == "unknown_staff"
    for role in ("site_manager", "admin", "vaccinator"):
        with pytest.raises(VaxopsError) as exc:
            deploy([ld], **ok, acting_user=world.users[role])
        assert exc.value.code == "permission_denied"
    assert not Deployment.objects.exists()


def test_a_county_sends_its_staff_to_another_county(world, crew):
    d = deploy([crew.staff["doctor"].pk], to_division="513322", starts_on=DAY, ends_on=DAY, reason="支援泸定",
               acting_user=world.users["county_command"])
    assert d.to_county_code == "513322" and list(d.staff.all()) == [crew.staff["doctor"]]
    assert AuditEvent.objects.get(action="staff.deploy").after["to_division"] == "513322"
