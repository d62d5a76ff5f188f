"""The command dashboard: figures as of a moment in both views, the report sentence, constant query count."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from conftest import make_person
from vaxops.campaign.report import area_word, report_sentence
from vaxops.core.formats import format_percent, percent
from vaxops.regions.models import Division, Level
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import record_dose

TZ = ZoneInfo("Asia/Shanghai")
DASHBOARD = reverse("web:dashboard")


def give(world, person, *, at: str, site="KD-MASS", user="vaccinator", product="BIBP", lot="B2021001"):
    dose, _ = record_dose(
        client_uuid=uuid.uuid4(), person_id=person.pk, product_code=product, lot_number=lot, site_code=site,
        administered_at=dt.datetime.fromisoformat(at), acting_user=world.users[user], source="web",
    )
    # Entered at the desk as it was given (not a late entry, although the test runs years later).
    DoseRecord.objects.filter(pk=dose.pk).update(recorded_at=dose.administered_at)
    return dose


@pytest.fixture
def en(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


@pytest.fixture
def campaign(world):
    """Two people in Kangding and one in Luding; the first completes the BIBP series on 1 June."""
    zhang = make_person(world, seq=101, name="张三")
    li = make_person(world, seq=102, name="李四")
    wang = make_person(world, seq=103, name="王五", county="513322")
    give(world, zhang, at="2021-05-10T10:00:00+08:00")
    give(world, li, at="2021-05-10T11:00:00+08:00")
    give(world, wang, at="2021-05-11T09:30:00+08:00", site="LD-MASS", user="vaccinator_ld")
    give(world, zhang, at="2021-06-01T10:00:00+08:00")
    return world


def figures(response) -> tuple[int, int, int, int]:
    f = response.context["figures"]
    return f["doses_total"], f["first_dose_people"], f["second_dose_people"], f["completed_series_people"]


def test_dashboard_shows_the_figures_after_doses_are_recorded(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    r = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    assert r.status_code == 200
    assert figures(r) == (4, 3, 1, 1)
    body = r.content.decode()
    for testid, value in [("doses-total", "4"), ("first-dose", "3"), ("second-dose", "1"), ("completed", "1")]:
        block = body[body.index(f'data-testid="{testid}"'):]
        assert f'<span class="figure-value">{value}</span>' in block[:300]
    children = {c["code"]: c for c in r.context["children"]}
    assert (children["513301"]["doses_total"], children["513322"]["doses_total"]) == (3, 1)
    assert children["513301"]["residence"]["first_dose_coverage_18_plus"] == round(2 / 1300, 4)


def test_the_report_sentence_reads_like_the_health_commission(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    r = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    assert r.context["sentence"] == (
        "As of 19:00 on 1 June 2021, the prefecture had given 4 doses of COVID-19 vaccine: "
        "3 people had their first dose and 1 their second (by time of vaccination)."
    )
    assert r.context["sentence"] in r.content.decode()


def test_figures_stop_at_the_chosen_moment(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    # Before the second dose on 1 June (10:00), and before anything at all.
    assert figures(en.get(DASHBOARD, {"at": "2021-06-01T09:00"})) == (3, 3, 0, 0)
    assert figures(en.get(DASHBOARD, {"at": "2021-05-10T10:30"})) == (1, 1, 0, 0)
    assert figures(en.get(DASHBOARD, {"at": "2021-05-01T00:00"})) == (0, 0, 0, 0)


def test_county_command_sees_only_its_county(en, campaign):
    en.force_login(campaign.users["county_command"])
    r = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    assert r.context["division"].code == "513301"
    assert figures(r) == (3, 2, 1, 1)
    assert r.context["sentence"].startswith("As of 19:00 on 1 June 2021, the city had given 3 doses")


def test_daily_chart_has_every_day_and_the_partial_last_day(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    r = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    daily = r.context["chart_data"]["daily"]
    assert daily["days"][0] == "2021-05-10" and daily["days"][-1] == "2021-06-01"
    assert len(daily["days"]) == 23  # no gaps: days without doses are zero
    assert daily["doses"][:3] == [2, 1, 0]
    assert daily["doses"][-1] == 1  # the day of "at", up to 19:00
    assert sum(daily["doses"]) == 4
    assert '<script id="chart-data" type="application/json">' in r.content.decode()


def test_coverage_chart_has_one_bar_per_child_in_percent(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    coverage = en.get(DASHBOARD, {"at": "2021-06-01T19:00"}).context["chart_data"]["coverage"]
    assert coverage["names"] == ["Kangding", "Luding"]
    assert coverage["percent"] == [percent(2 / 1300), percent(1 / 1300)]
    assert coverage["labels"] == ["0.2%", "0.1%"]


def test_children_link_to_drill_down(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    body = en.get(DASHBOARD, {"at": "2021-06-01T19:00"}).content.decode()
    assert "?division=513301&amp;at=2021-06-01T19:00&amp;view=administered" in body
    r = en.get(DASHBOARD, {"division": "513301", "at": "2021-06-01T19:00"})
    assert [c["code"] for c in r.context["children"]] == ["513301001"]


def test_a_malformed_time_is_reported_on_the_field(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    r = en.get(DASHBOARD, {"at": "yesterday"})
    assert r.status_code == 200
    assert r.context["form"].errors["at"]


def test_dashboard_query_count_does_not_grow_with_children(client, world, django_assert_max_num_queries):
    client.force_login(world.users["prefecture_command"])
    person = make_person(world, seq=201)
    give(world, person, at="2021-05-10T10:00:00+08:00")
    with CaptureQueriesContext(connection) as baseline:
        assert client.get(DASHBOARD, {"at": "2021-06-01T19:00"}).status_code == 200
    prefecture = world.divisions["513300"]
    for n in range(12):
        Division.objects.create(code=f"5133{30 + n}", level=Level.COUNTY, parent=prefecture,
                                name_zh=f"合成{n}县", name_en=f"Synthetic {n}", pop_18_59=1000)
    with django_assert_max_num_queries(len(baseline.captured_queries)):
        r = client.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    assert len(r.context["children"]) == 14


@pytest.mark.parametrize(
    ("name", "level", "key"),
    [
        ("甘孜藏族自治州", Level.PREFECTURE, "全州"),
        ("百色市", Level.PREFECTURE, "全市"),
        ("阿里地区", Level.PREFECTURE, "全地区"),
        ("泸定县", Level.COUNTY, "全县"),
        ("康定市", Level.COUNTY, "全市"),
        ("木里藏族自治县", Level.COUNTY, "全县"),
        ("金牛区", Level.COUNTY, "全区(市辖区)"),
        ("广西壮族自治区", Level.PROVINCE, "全区"),
        ("四川省", Level.PROVINCE, "全省"),
        ("壬庄乡", Level.TOWNSHIP, "全乡"),
        ("泸桥镇", Level.TOWNSHIP, "全镇"),
        ("炉城街道", Level.TOWNSHIP, "街道"),
        # The demo's synthetic names end in a remark; the unit word before it still decides.
        ("康定市第1街道（示例）", Level.TOWNSHIP, "街道"),
        ("泸定县第1镇（示例）", Level.TOWNSHIP, "全镇"),
        ("泸定县第3乡（示例）", Level.TOWNSHIP, "全乡"),
        ("康定市第1街道第2社区（示例）", Level.VILLAGE, "社区"),
        ("泸定县第3乡第1村（示例）", Level.VILLAGE, "全村"),
        ("示例", Level.COUNTY, "全县"),
    ],
)
def test_area_word_follows_the_division_name(name, level, key):
    assert area_word(Division(code="000000", level=level, name_zh=name)).key == key


def test_report_sentence_of_the_ganzi_report_in_english():
    ganzi = Division(code="513300", level=Level.PREFECTURE, name_zh="甘孜藏族自治州")
    at = dt.datetime(2021, 6, 1, 19, 0, tzinfo=TZ)
    with translation.override("en"):
        sentence = report_sentence(ganzi, at, doses=373657, first=330123, second=43534, today=dt.date(2021, 6, 3))
    assert sentence == (
        "As of 19:00 on 1 June, the prefecture had given 373,657 doses of COVID-19 vaccine: "
        "330,123 people had their first dose and 43,534 their second (by time of vaccination)."
    )


def test_report_sentence_in_chinese_does_not_group_digits():
    ganzi = Division(code="513300", level=Level.PREFECTURE, name_zh="甘孜藏族自治州")
    at = dt.datetime(2021, 6, 1, 19, 30, tzinfo=TZ)
    with translation.override("zh-hans"):
        sentence = report_sentence(ganzi, at, doses=373657, first=330123, second=43534)
    assert "373657" in sentence and "330123" in sentence and "43534" in sentence


def test_report_sentence_carries_the_year_of_another_year_and_says_its_view():
    ganzi = Division(code="513300", level=Level.PREFECTURE, name_zh="甘孜藏族自治州")
    at = dt.datetime(2021, 6, 1, 19, 0, tzinfo=TZ)
    with translation.override("zh-hans"):
        this_year = report_sentence(ganzi, at, doses=3, first=2, second=1, today=dt.date(2021, 6, 3))
        later = report_sentence(ganzi, at, doses=3, first=2, second=1, today=dt.date(2026, 1, 5))
        recorded = report_sentence(ganzi, at, doses=3, first=2, second=1, view="recorded",
                                   today=dt.date(2026, 1, 5))
    assert this_year.startswith("截至6月1日19时，全州累计接种")
    assert later.startswith("截至2021年6月1日19时，全州累计接种")
    assert later.endswith("（按接种时间统计）。") and recorded.endswith("（按录入时间统计）。")


def test_a_street_office_of_the_demo_reports_as_a_street():
    street = Division(code="513301001", level=Level.TOWNSHIP, name_zh="康定市第1街道（示例）")
    at = dt.datetime(2021, 6, 1, 19, 0, tzinfo=TZ)
    with translation.override("zh-hans"):
        sentence = report_sentence(street, at, doses=3, first=2, second=1)
    assert "，街道累计接种" in sentence and "全乡" not in sentence


def test_dashboard_says_its_view_and_the_late_entries(en, campaign):
    late = DoseRecord.objects.get(administered_at=dt.datetime.fromisoformat("2021-06-01T10:00:00+08:00"))
    DoseRecord.objects.filter(pk=late.pk).update(recorded_at=dt.datetime.fromisoformat("2021-06-01T20:30:00+08:00"))
    en.force_login(campaign.users["prefecture_command"])
    administered = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    note = administered.content.decode()
    assert "As administered: doses given by 19:00 on 1 June 2021, including 1 late entry" in note
    assert figures(administered)[0] == 4
    recorded = en.get(DASHBOARD, {"at": "2021-06-01T19:00", "view": "recorded"})
    assert figures(recorded)[0] == 3
    assert "As recorded: doses entered by 19:00 on 1 June 2021. 1 dose given by then was entered later" in (
        recorded.content.decode()
    )
    assert recorded.context["sentence"].endswith("(as recorded by then).")
    # The daily chart stays by day of vaccination in either view.
    assert recorded.context["chart_data"]["daily"]["doses"][-1] == 1


def test_residence_and_site_tables_add_up_with_the_not_assigned_row(en, campaign):
    en.force_login(campaign.users["county_command"])
    r = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    rows = r.context["rows"]
    # Kangding's gymnasium is a county-level site: its doses are in no township.
    assert [row["is_child"] for row in rows] == [True, False]
    assert sum(row["doses_total"] for row in rows) == r.context["figures"]["doses_total"] == 3
    assert sum(row["residence"]["first_dose_people"] for row in rows) == 2
    body = r.content.decode()
    assert 'data-testid="unassigned-sites"' in body and "Not assigned to a township" in body


def test_headline_table_and_chart_round_a_percentage_the_same_way(en, world):
    """0.25 % reads 0.3 % everywhere (rounded half up once, by core.formats.percent)."""
    for code in ("513301", "513301001"):
        Division.objects.filter(code=code).update(pop_18_59=300, pop_60_plus=100)
    person = make_person(world, seq=601, division="513301001")
    give(world, person, at="2021-05-10T10:00:00+08:00")
    en.force_login(world.users["county_command"])
    r = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    assert r.context["coverage_text"] == format_percent(1 / 400) == "0.3%"
    assert r.context["chart_data"]["coverage"]["percent"] == [0.3]
    assert r.context["chart_data"]["coverage"]["labels"] == ["0.3%"]
    body = r.content.decode()
    assert body.count("0.3%") >= 3 and "0.2%" not in body


def test_the_dashboard_opens_at_the_campaign_moment_and_says_so(en, campaign, settings):
    settings.VAXOPS_CAMPAIGN_MOMENT = "2021-06-01T09:00:00+08:00"
    en.force_login(campaign.users["prefecture_command"])
    r = en.get(DASHBOARD)
    assert r.context["at"] == dt.datetime(2021, 6, 1, 9, 0, tzinfo=TZ)
    assert figures(r) == (3, 3, 0, 0)
    assert "Opened at the campaign moment set for this installation: 09:00 on 1 June 2021" in r.content.decode()
    # A chosen moment is not the campaign moment, and without the setting the default is now.
    assert "campaign moment" not in en.get(DASHBOARD, {"at": "2021-06-01T19:00"}).content.decode()
    settings.VAXOPS_CAMPAIGN_MOMENT = ""
    assert en.get(DASHBOARD).context["at"].year >= 2025


def test_a_province_with_one_prefecture_shows_its_counties(en, world):
    province = Division.objects.create(code="520000", level=Level.PROVINCE, name_zh="贵州省", name_en="Guizhou")
    prefecture = Division.objects.create(code="522300", level=Level.PREFECTURE, parent=province,
                                         name_zh="黔西南布依族苗族自治州", name_en="Qianxinan")
    for code, name in [("522301", "Xingyi"), ("522302", "Xingren")]:
        Division.objects.create(code=code, level=Level.COUNTY, parent=prefecture, name_zh=name, name_en=name)
    en.force_login(world.users["admin"])
    r = en.get(DASHBOARD, {"division": "520000", "at": "2021-06-01T19:00"})
    assert r.context["breakdown_division"].code == "522300"
    assert [row["code"] for row in r.context["rows"] if row["is_child"]] == ["522301", "522302"]
    assert r.context["chart_data"]["coverage"]["names"] == ["Xingyi", "Xingren"]
    assert "By division of Qianxinan, the only division below." in r.content.decode()
