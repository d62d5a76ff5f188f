"""The staff pages as a user sees them: the checklist, the roster, deployments, the county view."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.staff.models import Readiness, ReadinessException, RosterEntry, Staff
from vaxops.staff.readiness import missing_items
from vaxops.staff.services import deploy, set_roster
from vaxops.staff.tests.helpers import DAY, make_crew, make_session, ready_session


@pytest.fixture
def crew(world):
    return make_crew(world)


def login(client, world, role, language="en"):
    client.force_login(world.users[role])
    client.cookies["django_language"] = language
    return client


def test_menu_link_only_for_roles_with_staff_view(client, world):
    assert "/staff/" in login(client, world, "site_manager").get("/").content.decode()
    client.logout()
    assert "/staff/" not in login(client, world, "vaccinator").get("/").content.decode()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_staff_list_by_unit_with_qualifications(client, world, crew, language):
    r = login(client, world, "county_command", language).get("/staff/")
    page = r.content.decode()
    assert r.status_code == 200 and "王接种" in page and "孙医生" not in page
    assert ("vaccination training" if language == "en" else "新冠疫苗接种培训") in page
    assert ("level 2" in page) if language == "en" else ("二级" in page)


def test_add_staff_from_the_page(client, world, crew):
    c = login(client, world, "site_manager")
    r = c.post("/staff/", {"form": "staff", "name": "新医生", "role": "doctor", "unit": "KD-HOSP", "phone": ""})
    assert r.status_code == 302 and Staff.objects.filter(name="新医生").exists()
    r = c.post("/staff/", {"form": "staff", "name": "坏电话", "role": "doctor", "unit": "KD-HOSP", "phone": "123"})
    assert r.status_code == 400 and not Staff.objects.filter(name="坏电话").exists()
    r = c.post("/staff/", {"form": "qualification", "staff": crew.staff["doctor"].pk, "kind": "vaccination_training",
                           "valid_until": "2022-01-01"})
    assert r.status_code == 422 and "Name the vaccine" in r.content.decode()


def test_vaccinator_may_not_see_staff(client, world):
    assert login(client, world, "vaccinator").get("/staff/").status_code == 403


def test_checklist_form_fills_items_and_shows_their_state(client, world, crew):
    s = make_session(world)
    set_roster(s, [crew.staff["doctor"].pk, crew.staff["vaccinator"].pk], acting_user=world.users["site_manager"])
    c = login(client, world, "site_manager")
    page = c.get(f"/staff/sessions/{s.pk}/readiness/").content.decode()
    assert "2 of 6 done" in page and "The 900 planned doses need at least 75 seats." in page
    r = c.post(f"/staff/sessions/{s.pk}/readiness/", {
        "form": "checklist", "plate": "川V·12345", "crew": "张三、李四", "kit_checked": "1",
        "drug_adrenaline": "2022-06-30", "drug_antihistamine": "2022-06-30", "drug_corticosteroid": "2021-05-01",
        "drug_oxygen": "1", "drug_resuscitation_equipment": "1", "seats": "80", "celsius": "9.5"})
    assert r.status_code == 302
    assert missing_items(s) == ["emergency_kit", "cold_chain_reading"]
    page = c.get(f"/staff/sessions/{s.pk}/readiness/").content.decode()
    assert "9.5 °C is outside 2–8 °C." in page and "expired by the session day: corticosteroid" in page
    r = c.post(f"/staff/sessions/{s.pk}/readiness/", {"form": "checklist", "celsius": "200"})
    assert r.status_code == 422 and "cannot be right" in r.content.decode()
    assert Readiness.objects.get(session=s).items["cold_chain_reading"] == 9.5


def test_county_command_grants_the_exception_from_the_page(client, world, crew):
    s = make_session(world)
    c = login(client, world, "county_command", "zh-hans")
    page = c.get(f"/staff/sessions/{s.pk}/readiness/").content.decode()
    assert 'data-testid="exception-form"' in page and "书面例外" in page
    r = c.post(f"/staff/sessions/{s.pk}/readiness/", {"form": "exception", "reason": "急救组在途"})
    assert r.status_code == 302 and ReadinessException.objects.filter(session=s).exists()
    page = c.get("/staff/county/").content.decode()
    assert "急救组在途" in page


def test_site_manager_sees_no_exception_form(client, world, crew):
    s = make_session(world)
    page = login(client, world, "site_manager").get(f"/staff/sessions/{s.pk}/readiness/").content.decode()
    assert 'data-testid="exception-form"' not in page


def test_foreign_session_pages_are_not_found(client, world, crew):
    s = make_session(world, "LD-MASS")
    c = login(client, world, "site_manager")
    assert c.get(f"/staff/sessions/{s.pk}/readiness/").status_code == 404
    assert c.get(f"/staff/sessions/{s.pk}/roster/").status_code == 404


def test_roster_page_shows_deployed_staff_and_refuses_others(client, world, crew):
    s = make_session(world)
    deploy([crew.staff["mch_doctor"].pk], to_division="513301", starts_on=DAY, ends_on=DAY + dt.timedelta(days=3),
           reason="州妇幼支援", acting_user=world.users["prefecture_command"])
    c = login(client, world, "site_manager")
    page = c.get(f"/staff/sessions/{s.pk}/roster/").content.decode()
    assert "周医生" in page and 'data-testid="deployed"' in page and "孙医生" not in page
    r = c.post(f"/staff/sessions/{s.pk}/roster/", {"staff": [crew.staff["mch_doctor"].pk, crew.staff["vaccinator"].pk],
                                                   "planned_staff": "5"})
    assert r.status_code == 302 and RosterEntry.objects.filter(session=s).count() == 2
    r = c.post(f"/staff/sessions/{s.pk}/roster/", {"staff": [crew.staff["ld_doctor"].pk]})
    assert r.status_code == 422 and "孙医生" in r.content.decode()
    page = login(client, world, "county_command").get("/staff/county/").content.decode()
    assert 'data-testid="short-row"' in page


def test_deployments_page_for_the_receiving_county(client, world, crew):
    deploy([crew.staff["mch_doctor"].pk, crew.staff["ld_doctor"].pk], to_division="513301", starts_on=DAY,
           ends_on=DAY + dt.timedelta(days=3), reason="支援康定", acting_user=world.users["prefecture_command"])
    page = login(client, world, "county_command").get("/staff/deployments/").content.decode()
    assert "2 staff to Kangding" in page and "GZ-MCH" in page
    client.logout()
    page = login(client, world, "county_command_ld").get("/staff/deployments/").content.decode()
    assert 'data-testid="none"' in page


def test_deploy_from_the_page(client, world, crew):
    c = login(client, world, "prefecture_command")
    r = c.post("/staff/deployments/", {"staff": [crew.staff["mch_doctor"].pk], "to_division": "513301",
                                       "starts_on": "2021-05-10", "ends_on": "2021-05-12", "reason": "支援"})
    assert r.status_code == 302
    r = c.post("/staff/deployments/", {"staff": [crew.staff["mch_doctor"].pk], "to_division": "513301",
                                       "starts_on": "2021-05-10", "ends_on": "soon", "reason": "支援"})
    assert r.status_code == 422


def test_county_view_doses_per_staff_hour(client, world, crew):
    ready_session(world, crew)
    page = login(client, world, "county_command").get("/staff/county/").content.decode()
    assert 'data-testid="productivity-row"' in page and "18.0" in page
