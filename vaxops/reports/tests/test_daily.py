"""The daily report: figures at the cut-off equal the summary (JSON and xlsx), the day's figures,
coverage by residence and age band, stock and excursions at the cut-off, the frozen report and
its late entries (补报) in the next one, contributed sections, bad input."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid

import pytest
from django.utils import translation
from openpyxl import load_workbook

from vaxops.campaign.services import summary
from vaxops.core.errors import VaxopsError
from vaxops.reports import sections
from vaxops.reports.daily import build_document, daily_report, report_context
from vaxops.reports.models import IssuedReport
from vaxops.reports.services import issue_daily_report, verify
from vaxops.reports.tests.helpers import DAY, NEXT, at, campaign_days, give, residents
from vaxops.vaccination.models import DoseRecord

pytestmark = pytest.mark.django_db
CUTOFF = at(DAY, 19)


@pytest.fixture
def days(world):
    return {**campaign_days(world), "world": world}


def section(doc, key):
    return next(s for s in doc["sections"] if s["key"] == key)


def sheet_rows(data: bytes, title: str) -> list[tuple]:
    wb = load_workbook(io.BytesIO(data))
    return list(wb[title].iter_rows(values_only=True))


def test_the_figures_at_the_cutoff_equal_the_api_summary(days, api):
    world = days["world"]
    client = api(world.tokens["prefecture_command"])
    r = client.get("/reports/daily", division="513300", date="2021-05-10", cutoff="19:00")
    assert r.status_code == 200, r.content
    doc = r.json()
    s = client.get("/stats/summary", division="513300", at="2021-05-10T19:00:00+08:00").json()
    for metric in ("doses_total", "first_dose_people", "second_dose_people", "completed_series_people",
                   "booster_people"):
        assert doc["figures"]["cumulative"][metric] == s[metric]
    assert doc["figures"]["residence"] == s["residence"]
    # Four doses given by 19:00 (the 20:00 one is the next report's): three in Kangding, one in Luding.
    assert doc["figures"]["cumulative"]["doses_total"] == 4
    by_division = {row["code"]: row for row in section(doc, "by_division")["figures"]["children"]}
    assert by_division["513301"]["doses_total"] == 3 and by_division["513322"]["doses_total"] == 1
    assert doc["status"] == "draft" and doc["sha256"] is None


def test_the_xlsx_figures_equal_the_api_summary_at_the_same_cutoff(days, api):
    world = days["world"]
    client = api(world.tokens["county_command"])
    r = client.get("/reports/daily", division="513301", date="2021-05-10", cutoff="19:00", format="xlsx")
    assert r.status_code == 200
    assert r["Content-Type"].startswith("application/vnd.openxmlformats")
    assert 'filename="daily-report-513301-2021-05-10-1900.xlsx"' in r["Content-Disposition"]
    figures = summary(world.divisions["513301"], CUTOFF)
    wb = load_workbook(io.BytesIO(r.content))
    doses = wb[wb.sheetnames[1]]
    # Title and cut-off above a frozen header row; numbers as numbers.
    assert doses["A1"].value == "Doses and people vaccinated"
    assert "Kangding" in doses["A2"].value and "19:00 on 10 May" in doses["A2"].value
    assert doses.freeze_panes == "B5"
    cumulative = {row[0]: row[2] for row in doses.iter_rows(min_row=5, values_only=True)}
    assert cumulative["Doses given"] == figures["doses_total"] == 3
    assert cumulative["People with a first dose"] == figures["first_dose_people"]
    assert cumulative["People with a second dose"] == figures["second_dose_people"]
    assert all(isinstance(v, int) for v in cumulative.values())
    coverage = wb["Residents vaccinated, by whe"]
    total = [row for row in coverage.iter_rows(min_row=5, values_only=True) if row[0] == "Total"][0]
    assert total[1] == figures["residence"]["first_dose_people"]
    assert total[4] == figures["residence"]["population_18_plus"]
    assert total[5] == pytest.approx(figures["residence"]["first_dose_coverage_18_plus"])
    assert coverage["F5"].number_format == "0.0%"


def test_the_day_counts_from_midnight_and_the_cumulative_from_the_start(days):
    world = days["world"]
    give(world, residents(world, 1, start=700)[0], at(DAY - dt.timedelta(days=1), 23, 59))
    doc = daily_report(world.divisions["513301"], DAY, "19:00")
    doses = section(doc, "doses")["figures"]
    assert doses["today"]["doses_total"] == 3 and doses["cumulative"]["doses_total"] == 4
    nxt = daily_report(world.divisions["513301"], NEXT, "19:00")
    # The 20:00 dose of 10 May and the 09:00 one of 11 May.
    assert section(nxt, "doses")["figures"]["cumulative"]["doses_total"] == 6


def test_coverage_by_age_band_adds_up_to_the_residents_and_shows_60_plus(days):
    world = days["world"]
    doc = daily_report(world.divisions["513301"], DAY, "19:00")
    bands = {b["band"]: b for b in section(doc, "age_bands")["figures"]["bands"]}
    assert bands["60+"]["first_dose_people"] == 1 and bands["18-59"]["first_dose_people"] == 2
    assert bands["18+"]["first_dose_people"] == doc["figures"]["residence"]["first_dose_people"] == 3
    assert bands["60+"]["population"] == world.divisions["513301"].pop_60_plus
    total = section(doc, "coverage")["figures"]["total"]
    assert total["first_dose_people_60_plus"] == 1
    assert total["coverage_60_plus"] == round(1 / world.divisions["513301"].pop_60_plus, 4)


def test_the_frozen_report_stays_identical_after_a_late_entry_which_the_next_report_shows(days, api):
    world = days["world"]
    issued = issue_daily_report(division_code="513300", day=DAY, cutoff="19:00",
                                acting_user=world.users["prefecture_command"], source="api", now=at(DAY, 19, 30))
    client = api(world.tokens["prefecture_command"])
    before = client.get("/reports/daily", division="513300", date="2021-05-10", cutoff="19:00")
    xlsx_before = client.get("/reports/daily", division="513300", date="2021-05-10", cutoff="19:00",
                             format="xlsx").content
    assert before.json()["status"] == "issued" and before.json()["sha256"] == issued.sha256
    # A dose given at 18:00 on 10 May, entered the next morning: after the report was issued.
    late = residents(world, 1, start=720)[0]
    give(world, late, at(DAY, 18), recorded=at(NEXT, 8))
    after = client.get("/reports/daily", division="513300", date="2021-05-10", cutoff="19:00")
    assert after.json() == before.json()
    assert sheet_rows(client.get("/reports/daily", division="513300", date="2021-05-10", cutoff="19:00",
                                 format="xlsx").content, "Doses and people vaccinated") == \
        sheet_rows(xlsx_before, "Doses and people vaccinated")
    stored = IssuedReport.objects.get(pk=issued.pk)
    assert verify(stored) and stored.figures["cumulative"]["doses_total"] == 4
    # The live figures at that cut-off changed; the issued report did not.
    assert summary(world.divisions["513300"], CUTOFF)["doses_total"] == 5
    nxt = client.get("/reports/daily", division="513300", date="2021-05-11", cutoff="19:00").json()
    late_entries = section(nxt, "late_entries")["figures"]
    assert late_entries["previous"]["sha256"] == issued.sha256
    assert late_entries["late"]["doses_total"] == 1 and late_entries["late"]["first_dose_people"] == 1
    # Issued 4 + late 1 + given since the previous cut-off 2 (20:00 on 10 May, 09:00 on 11 May) = 7.
    assert late_entries["since_previous_cutoff"]["doses_total"] == 2
    assert nxt["figures"]["cumulative"]["doses_total"] == 7
    assert "Late entries (补报) for the report of 19:00 on 10 May: +1 dose" in nxt["sentence"]
    with translation.override("zh-hans"):
        zh = build_document(report_context(world.divisions["513300"], NEXT, "19:00"))
    assert "5月10日19时日报发布后补报" in zh["sentence"] or "补报" in zh["sentence"]


def test_a_voided_dose_shows_as_a_negative_late_entry(days):
    world = days["world"]
    issue_daily_report(division_code="513301", day=DAY, cutoff="19:00", acting_user=None, source="cli",
                       now=at(DAY, 20))
    from vaxops.vaccination.services import void_dose

    dose = DoseRecord.objects.filter(person=days["people"][0]).get()
    void_dose(dose_id=dose.pk, reason="entered twice", acting_user=world.users["site_manager"], source="api")
    nxt = daily_report(world.divisions["513301"], NEXT, "19:00")
    assert section(nxt, "late_entries")["figures"]["late"]["doses_total"] == -1


def test_the_report_is_issued_once_per_division_and_day(days):
    world = days["world"]
    issue_daily_report(division_code="513301", day=DAY, acting_user=world.users["county_command"], source="api")
    with pytest.raises(VaxopsError) as refused:
        issue_daily_report(division_code="513301", day=DAY, cutoff="20:00", acting_user=world.users["admin"],
                           source="api")
    assert refused.value.code == "report_already_issued"
    assert IssuedReport.objects.count() == 1


def test_issuing_is_audited_with_the_hash_in_both_languages(days):
    from vaxops.core.models import AuditEvent

    world = days["world"]
    report = issue_daily_report(division_code="513301", day=DAY, acting_user=world.users["county_command"],
                                source="api")
    assert set(report.content) == {"zh-hans", "en"}
    assert report.content["zh-hans"]["sentence"].startswith("截至5月10日19时，全市累计接种新冠病毒疫苗3剂次")
    event = AuditEvent.objects.get(action="report.issued")
    assert event.after["sha256"] == report.sha256 and event.after["doses_total"] == 3


@pytest.mark.parametrize("params, code", [
    ({"date": "2020-01-01"}, "report_before_campaign"),
    ({"date": "2099-06-01"}, "report_cutoff_in_future"),
    ({"date": "2021-05-10", "cutoff": "25:00"}, "report_invalid_cutoff"),
    ({"date": "2021-05-10", "cutoff": "7pm"}, "report_invalid_cutoff"),
])
def test_bad_input_is_refused_with_its_code(world, api, params, code):
    r = api(world.tokens["county_command"]).get("/reports/daily", division="513301", **params)
    assert r.status_code == 422 and r.json()["code"] == code, r.content


def test_a_cutoff_later_today_is_in_the_future(world):
    from django.utils import timezone

    from vaxops.campaign.services import TZ

    now = timezone.now().astimezone(TZ).replace(hour=10, minute=0)
    with pytest.raises(VaxopsError) as refused:
        report_context(world.divisions["513301"], now.date(), "19:00", now=now)
    assert refused.value.code == "report_cutoff_in_future"
    assert report_context(world.divisions["513301"], now.date(), "09:00", now=now).cutoff.hour == 9


def test_24_00_is_the_end_of_the_day(days):
    doc = daily_report(days["world"].divisions["513301"], DAY, "24:00")
    assert section(doc, "doses")["figures"]["today"]["doses_total"] == 4  # the 20:00 dose too


def test_issue_through_the_api_and_refusals_write_nothing(days, api):
    world = days["world"]
    client = api(world.tokens["county_command"])
    r = client.post("/reports/daily/issue", {"division": "513301", "date": "2021-05-10", "cutoff": "19:00"})
    assert r.status_code == 201, r.content
    assert r.json()["status"] == "issued" and len(r.json()["sha256"]) == 64
    again = client.post("/reports/daily/issue", {"division": "513301", "date": "2021-05-10"})
    assert again.status_code == 409 and again.json()["code"] == "report_already_issued"
    outside = client.post("/reports/daily/issue", {"division": "513322", "date": "2021-05-10"})
    assert outside.status_code == 404 and outside.json()["code"] == "division_not_found"
    supervisor = api(world.tokens["supervisor"]).post("/reports/daily/issue", {"division": "513301",
                                                                                "date": "2021-05-11"})
    assert supervisor.status_code == 403
    assert IssuedReport.objects.count() == 1


def test_stock_at_the_cutoff_and_days_of_supply(days):
    from vaxops.supply.ledger import Line, post

    world = days["world"]
    doc = daily_report(world.divisions["513301"], DAY, "19:00")
    stock = section(doc, "stock")["figures"]
    # KD-CDC, KD-MASS, KD-THC each hold every lot (5 lots × 10,000), less the doses given at KD-MASS since.
    held_now = stock["on_hand"]
    from django.db import transaction

    with transaction.atomic():
        post([Line(world.stores["KD-CDC"].pk, world.lots["bibp"].pk, 500, "receipt")], reason="receipt", user=None,
             occurred_at=at(NEXT, 8), document_number="LATER")
    assert section(daily_report(world.divisions["513301"], DAY, "19:00"), "stock")["figures"]["on_hand"] == held_now
    assert section(daily_report(world.divisions["513301"], NEXT, "19:00"), "stock")["figures"]["on_hand"] == \
        held_now + 500 - 2  # two more doses given at KD-MASS after the cut-off of 10 May
    later = section(daily_report(world.divisions["513301"], NEXT + dt.timedelta(days=1), "19:00"), "stock")
    assert later["figures"]["daily_rate"] == round(5 / 7, 1)  # 5 doses at Kangding's sites in the 7 days before
    assert later["figures"]["days_of_supply"] == later["figures"]["on_hand"] * 7 // 5
    assert "Stock on hand:" in later["sentence"]


def test_excursions_open_at_the_cutoff(world):
    from vaxops.supply.coldchain import record_temperatures

    cold = [(at(DAY, 8), -1.0), (at(DAY, 10), 5.0)]
    record_temperatures(store_code="KD-MASS", readings=cold, kind="logger", acting_user=world.users["supply_officer"],
                        source="api")
    from vaxops.supply.models import Excursion

    Excursion.objects.update(detected_at=at(DAY, 11))
    doc = daily_report(world.divisions["513301"], DAY, "19:00")
    ex = section(doc, "excursions")
    assert ex["figures"]["open"] == 1 and ex["rows"][0][0] == world.stores["KD-MASS"].name
    Excursion.objects.update(status="released", reviewed_at=at(DAY, 18))
    assert section(daily_report(world.divisions["513301"], DAY, "19:00"), "excursions")["figures"]["open"] == 0
    assert section(daily_report(world.divisions["513301"], DAY, "10:00"), "excursions")["figures"]["open"] == 0
    assert section(daily_report(world.divisions["513322"], DAY, "19:00"), "excursions")["figures"]["open"] == 0


def test_aefi_reported_and_serious_by_the_cutoff(days):
    from vaxops.safety import services as aefi
    from vaxops.safety.models import AefiReport

    world = days["world"]
    dose = DoseRecord.objects.filter(person=days["old"]).get()
    onset = dose.administered_at + dt.timedelta(minutes=20)
    aefi.report_aefi(client_uuid=uuid.uuid4(), person=dose.person, dose=dose, onset_at=onset, detected_at=onset,
                     acting_user=world.users["vaccinator"], events=["syncope"], serious=True,
                     serious_criteria=["hospitalisation"], at=onset + dt.timedelta(minutes=10))
    assert AefiReport.objects.get().reported_at == onset + dt.timedelta(minutes=10)
    figures = section(daily_report(world.divisions["513301"], DAY, "19:00"), "aefi")["figures"]
    assert (figures["reported"], figures["serious"], figures["reported_today"]) == (1, 1, 1)
    assert figures["per_100000"] == round(100_000 / 3, 1)
    assert section(daily_report(world.divisions["513301"], DAY, "14:00"), "aefi")["figures"]["reported"] == 0


def test_a_contributed_section_is_in_the_json_the_xlsx_and_the_page(days, api, client, monkeypatch):
    world = days["world"]
    seen = []

    def outreach(ctx):
        seen.append(ctx)
        return sections.Section(key="outreach_test", title="Outreach (test)", columns=["Grid", "Reached"],
                                rows=[["Grid 1", 12]], figures={"reached": 12}, sentence="12 reached.")

    monkeypatch.setitem(sections._SECTIONS, "outreach_test", (70, outreach))
    monkeypatch.setitem(sections._SECTIONS, "nothing_test", (80, lambda ctx: None))
    r = api(world.tokens["county_command"]).get("/reports/daily", division="513301", date="2021-05-10")
    doc = r.json()
    keys = [s["key"] for s in doc["sections"]]
    assert keys[-1] == "outreach_test" and "nothing_test" not in keys
    assert keys[:8] == ["doses", "late_entries", "coverage", "age_bands", "by_division", "aefi", "stock",
                        "excursions"]
    assert seen[0].cutoff == CUTOFF and seen[0].start == at(DAY, 0) and seen[0].division.code == "513301"
    assert doc["sentence"].endswith("12 reached.")
    xlsx = api(world.tokens["county_command"]).get("/reports/daily", division="513301", date="2021-05-10",
                                                   format="xlsx").content
    rows = sheet_rows(xlsx, "Outreach (test)")
    assert rows[3] == ("Grid", "Reached") and rows[4] == ("Grid 1", 12)
    client.force_login(world.users["county_command"])
    page = client.get("/reports/daily/", {"division": "513301", "date": "2021-05-10"}, HTTP_ACCEPT_LANGUAGE="en")
    assert b'data-testid="section-outreach_test"' in page.content and b"Grid 1" in page.content


def test_the_demo_report_sentence_reads_as_published(world):
    """At the published figures the sentence is the commission's, word for word."""
    from vaxops.campaign.report import report_sentence

    with translation.override("zh-hans"):
        sentence = report_sentence(world.divisions["513300"], at(dt.date(2021, 6, 1), 19), doses=373657,
                                   first=330123, second=43534, today=dt.date(2021, 6, 1))
    assert sentence.startswith("截至6月1日19时，全州累计接种新冠病毒疫苗373657剂次，其中第一剂330123人，第二剂43534人")


def test_the_json_document_is_json_all_the_way(days):
    doc = daily_report(days["world"].divisions["513300"], DAY, "19:00")
    assert json.loads(json.dumps(doc)) == doc


def test_the_command_writes_the_xlsx(days, tmp_path):
    from django.core.management import CommandError, call_command

    out = tmp_path / "report.xlsx"
    call_command("daily_report", "--division", "513301", "--date", "2021-05-10", "--cutoff", "19:00",
                 "--out", str(out), "--language", "en", stdout=io.StringIO())
    rows = sheet_rows(out.read_bytes(), "Doses and people vaccinated")
    assert rows[4] == ("Doses given", 3, 3)
    call_command("daily_report", "--division", "513301", "--date", "2021-05-10", "--out", str(out), "--issue",
                 stdout=io.StringIO())
    assert IssuedReport.objects.get().issued_by is None
    assert load_workbook(out).sheetnames[0] == "日报"
    with pytest.raises(CommandError, match="report_before_campaign"):
        call_command("daily_report", "--division", "513301", "--date", "2019-05-10", "--out", str(out))


def test_a_township_report_without_divisions_below_has_its_totals_once(days, api):
    from vaxops.access.services import create_user

    world = days["world"]
    world.users["thc"], _ = create_user(username="vaccinator_thc", role="site_manager", scope="KD-THC", source="cli")
    give(world, residents(world, 1, start=740)[0], at(DAY, 9, 30), site="KD-THC", user="thc")
    doc = api(world.tokens["township_organiser"]).get("/reports/daily", date="2021-05-10").json()
    assert doc["division_code"] == "513301001"
    assert [row[0] for row in section(doc, "by_division")["rows"]] == ["Total"]
    assert section(doc, "by_division")["rows"][0][1] == 1  # the dose at the Lucheng health centre
    assert [row[0] for row in section(doc, "coverage")["rows"]] == ["Total"]
