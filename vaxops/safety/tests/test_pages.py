"""The AEFI pages: the form from a dose, the list with deadlines and the overdue in red, the
steps and classification on a report, the clusters with their one-click quarantine, the
dashboard panel and the menu link; each page refuses the roles it is not for."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from vaxops.safety.models import AefiReport
from vaxops.safety.services import report_aefi
from vaxops.safety.tests.helpers import dose, report_args
from vaxops.supply.models import Lot

H = dt.timedelta(hours=1)


def login(client, world, role):
    client.force_login(world.users[role])
    client.cookies["django_language"] = "en"
    return client


def local(moment):
    from vaxops.campaign.services import TZ

    return moment.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def test_the_form_from_a_dose_records_a_serious_report_and_shows_its_deadline(client, world):
    now = timezone.now()
    d = dose(world, at=now - 2 * H)
    c = login(client, world, "site_manager")
    page = c.get(f"/aefi/new/?dose={d.pk}")
    assert page.status_code == 200 and d.lot.lot_number in page.content.decode()
    r = c.post(f"/aefi/new/?dose={d.pk}", {
        "client_uuid": "6b0f4a53-8d7e-4bb3-9a57-06e3cf8e8e01", "person_id": d.person_id, "dose_id": d.pk,
        "onset_at": local(now - H), "detected_at": local(now - dt.timedelta(minutes=30)),
        "events": ["anaphylaxis"], "signs": ["generalised_urticaria", "measured_hypotension"], "serious": "on",
        "serious_criteria": ["life_threatening"], "outcome": "recovering"})
    assert r.status_code == 302, r.content.decode()[:2000]
    report = AefiReport.objects.get()
    assert report.dose == d and report.brighton_level == 1 and report.site == d.site
    detail = c.get(r.url).content.decode()
    assert "level 1" in detail and "2 hours from detection" in detail
    listing = c.get("/aefi/").content.decode()
    assert f'data-report="{report.pk}"' in listing and "in 1 h" in listing


def test_the_form_refuses_an_onset_before_the_dose_and_keeps_the_input(client, world):
    d = dose(world)
    c = login(client, world, "vaccinator")
    r = c.post(f"/aefi/new/?dose={d.pk}", {
        "client_uuid": "6b0f4a53-8d7e-4bb3-9a57-06e3cf8e8e02", "person_id": d.person_id, "dose_id": d.pk,
        "onset_at": local(d.administered_at - H), "detected_at": local(d.administered_at + H),
        "events": ["syncope"], "description": "fainted in the queue"})
    assert r.status_code == 422
    body = r.content.decode()
    assert 'data-error-code="aefi_onset_before_dose"' in body and "fainted in the queue" in body
    assert AefiReport.objects.count() == 0


def test_the_form_finds_a_person_by_id_number(client, world):
    d = dose(world)
    c = login(client, world, "county_command")
    page = c.get("/aefi/new/", {"id_number": d.person.id_number}).content.decode()
    assert f'value="{d.pk}"' in page


def test_overdue_reports_are_red_on_the_list_and_counted_on_the_dashboard(client, world):
    report_aefi(**report_args(dose(world), serious=True, serious_criteria=["hospitalisation"]),
                acting_user=world.users["vaccinator"])  # 2021: long overdue
    c = login(client, world, "county_command")
    listing = c.get("/aefi/").content.decode()
    assert "aefi-overdue-row" in listing and "overdue by" in listing
    dash = c.get("/").content.decode()
    assert 'data-testid="aefi-panel"' in dash and 'data-testid="aefi-overdue"' in dash
    assert 'class="figure-value overdue"' in dash
    assert '/aefi/"' in dash or "/aefi/?" in dash


def test_the_supervisor_moves_a_report_through_its_steps_on_the_page(client, world):
    r = report_aefi(**report_args(dose(world), events=["anaphylaxis"], serious=True,
                                  serious_criteria=["life_threatening"], signs=["stridor", "nausea"]),
                    acting_user=world.users["vaccinator"])
    c = login(client, world, "supervisor")
    url = f"/aefi/{r.pk}/"
    assert "level 2" in c.get(url).content.decode()
    assert c.post(url, {"step": "triage"}).status_code == 302
    assert c.post(url, {"step": "triage"}).status_code == 409
    assert c.post(url, {"step": "investigate", "findings": "Observed 30 min."}).status_code == 302
    assert c.post(url, {"step": "classify", "who_category": "A1", "cn_category": "abnormal_reaction",
                        "brighton_level": "2"}).status_code == 302
    r.refresh_from_db()
    assert (r.status, r.who_category, r.brighton_level_assessed) == ("classified", "A1", 2)
    assert "step-close" in c.get(url).content.decode()
    # The county command reads but does not classify.
    county = login(client, world, "county_command")
    assert "step-form" not in county.get(url).content.decode()
    assert county.post(url, {"step": "close"}).status_code == 403


def test_the_supervisor_quarantines_a_clusters_lots_with_one_click(client, world):
    for lot in ("B2021001", "C2021001"):
        report_aefi(**report_args(dose(world, lot=lot), events=["syncope"], serious=True,
                                  serious_criteria=["hospitalisation"]), acting_user=world.users["vaccinator"])
    county = login(client, world, "county_command")
    assert 'data-testid="cluster-alert"' in county.get("/aefi/").content.decode()
    page = county.get("/aefi/clusters/").content.decode()
    assert "B2021001" in page and "act-form" not in page
    c = login(client, world, "supervisor")
    page = c.get("/aefi/clusters/").content.decode()
    assert "act-form" in page
    cluster_id = AefiReport.objects.exclude(cluster=None).values_list("cluster_id", flat=True).first()
    r = c.post(f"/aefi/clusters/{cluster_id}/act/", {"reason": "Two fainting cases, hospitalised"})
    assert r.status_code == 302
    assert set(Lot.objects.filter(lot_number__in=["B2021001", "C2021001"]).values_list("status", flat=True)) == {
        "quarantined"}


@pytest.mark.parametrize(("role", "path", "status"), [
    ("grid_worker", "/aefi/", 403), ("vaccinator", "/aefi/", 403), ("supply_officer", "/aefi/new/", 403),
    ("vaccinator", "/aefi/new/", 200), ("prefecture_command", "/aefi/clusters/", 200),
    ("prefecture_command", "/aefi/new/", 403),
])
def test_pages_refuse_the_roles_they_are_not_for(client, world, role, path, status):
    assert login(client, world, role).get(path).status_code == status


def test_a_report_outside_the_area_is_not_found(client, world):
    r = report_aefi(**report_args(dose(world, site="LD-MASS")), acting_user=world.users["vaccinator_ld"])
    assert login(client, world, "county_command").get(f"/aefi/{r.pk}/").status_code == 404


def test_the_menu_links_by_permission_in_chinese(client, world):
    client.force_login(world.users["county_command"])
    page = client.get("/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert 'href="/aefi/"' in page
    client.force_login(world.users["vaccinator"])
    assert 'href="/aefi/new/"' in client.get("/aefi/new/").content.decode()
    client.force_login(world.users["supply_officer"])
    assert "/aefi/" not in client.get("/").content.decode()


def test_the_list_shows_the_rates_by_vaccine_and_lot(client, world):
    for _ in range(2):
        report_aefi(**report_args(dose(world)), acting_user=world.users["vaccinator"])
    page = login(client, world, "county_command").get("/aefi/").content.decode()
    assert 'data-testid="aefi-rates"' in page and "B2021001" in page
    assert "100,000.0" in page  # two reports among two doses, grouped as numbers are


def test_ids_beyond_any_row_are_not_found(client, world):
    c = login(client, world, "supervisor")
    assert c.get("/aefi/99999999999999999999999/").status_code == 404
    assert c.post("/aefi/clusters/99999999999999999999999/act/").status_code == 404
    assert c.get("/aefi/new/?dose=99999999999999999999999").status_code == 200
    r = c.post("/aefi/new/", {"person_id": "99999999999999999999999", "onset_at": "x", "detected_at": "y",
                              "events": ["syncope"]})
    assert r.status_code == 404 and b"person_not_found" in r.content  # the ID number search again
