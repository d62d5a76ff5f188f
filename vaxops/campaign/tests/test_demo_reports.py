"""The demo's daily report: the prefecture's 2021-06-01 19:00 report, issued, frozen and
downloadable, its sentence as the one published (scaled)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from vaxops.campaign import demo
from vaxops.campaign.services import summary
from vaxops.regions.models import Division
from vaxops.reports.models import IssuedReport
from vaxops.reports.services import verify

SCALE = 0.002
pytestmark = pytest.mark.django_db


@pytest.fixture
def built(demo_built) -> demo.DemoReport:
    return demo_built


def test_the_demo_issues_the_prefectures_report_of_1_june_at_19_00(built):
    report = IssuedReport.objects.get(division__code="513300")
    assert report.day.isoformat() == "2021-06-01" and report.cutoff == demo.REPORT_AT
    assert verify(report)
    first, second = round(330_123 * SCALE), round(43_534 * SCALE)
    sentence = report.content["zh-hans"]["sentence"]
    assert sentence.startswith(f"截至6月1日19时，全州累计接种新冠病毒疫苗{first + second}剂次，其中第一剂{first}人，"
                               f"第二剂{second}人")
    assert report.content["en"]["sentence"].startswith("As of 19:00 on 1 June, the prefecture had given")
    # Its figures are the summary's at the cut-off.
    figures = summary(Division.objects.get(code="513300"), demo.REPORT_AT)
    assert report.figures["cumulative"]["doses_total"] == figures["doses_total"] == first + second
    assert built.later["reports"]["sha256"] == report.sha256


def test_the_demo_report_is_downloadable(built, client):
    token = demo.issue_demo_tokens()["prefecture_command"]
    r = client.get("/api/v1/reports/daily", {"division": "513300", "date": "2021-06-01", "cutoff": "19:00",
                                             "format": "xlsx"}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert len(wb.sheetnames) >= 9
    front = wb[wb.sheetnames[0]]
    assert front["A4"].value.startswith("截至6月1日19时，全州累计接种新冠病毒疫苗")
    body = client.get("/api/v1/reports/daily", {"division": "513300", "date": "2021-06-01"},
                      HTTP_AUTHORIZATION=f"Bearer {token}", HTTP_ACCEPT_LANGUAGE="en").json()
    assert body["status"] == "issued" and body["issued_by"] == "prefecture_command"
    counties = {row["code"] for row in next(s for s in body["sections"] if s["key"] == "coverage")["figures"]["children"]}
    assert len(counties) == 18
