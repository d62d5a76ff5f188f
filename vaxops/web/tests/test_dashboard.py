"""The command dashboard: figures as of a moment, the report sentence, constant query count."""

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
from vaxops.regions.models import Division, Level
from vaxops.vaccination.services import record_dose
from vaxops.web.report import area_word, report_sentence

TZ = ZoneInfo("Asia/Shanghai")
DASHBOARD = reverse("web:dashboard")


def give(world, person, *, at: str, site="KD-MASS", user="vaccinator", product="BIBP", lot="B2021001"):
    dose, _ = record_dose(
        client_uuid=uuid.uuid4(), person_id=person.pk, product_code=product, lot_number=lot, site_code=site,
        administered_at=dt.datetime.fromisoformat(at), acting_user=world.users[user], source="web",
    )
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
    assert children["513301"]["first_dose_coverage_18_plus"] == round(2 / 1300, 4)


def test_the_report_sentence_reads_like_the_health_commission(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    r = en.get(DASHBOARD, {"at": "2021-06-01T19:00"})
    assert r.context["sentence"] == (
        "As of 19:00 on 1 June, the prefecture had given 4 doses of COVID-19 vaccine: "
        "3 people had their first dose and 1 their second."
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
    assert r.context["sentence"].startswith("As of 19:00 on 1 June, the city had given 3 doses")


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
    assert coverage["percent"] == [round(2 / 1300 * 100, 2), round(1 / 1300 * 100, 2)]


def test_children_link_to_drill_down(en, campaign):
    en.force_login(campaign.users["prefecture_command"])
    body = en.get(DASHBOARD, {"at": "2021-06-01T19:00"}).content.decode()
    assert "?division=513301&amp;at=2021-06-01T19:00" in body
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
        ("炉城街道", Level.TOWNSHIP, "全街道"),
        ("示例", Level.COUNTY, "全县"),
    ],
)
def test_area_word_follows_the_division_name(name, level, key):
    assert area_word(Division(code="000000", level=level, name_zh=name)).key == key


def test_report_sentence_of_the_ganzi_report_in_english():
    ganzi = Division(code="513300", level=Level.PREFECTURE, name_zh="甘孜藏族自治州")
    at = dt.datetime(2021, 6, 1, 19, 0, tzinfo=TZ)
    with translation.override("en"):
        sentence = report_sentence(ganzi, at, doses=373657, first=330123, second=43534)
    assert sentence == (
        "As of 19:00 on 1 June, the prefecture had given 373,657 doses of COVID-19 vaccine: "
        "330,123 people had their first dose and 43,534 their second."
    )


def test_report_sentence_in_chinese_does_not_group_digits():
    ganzi = Division(code="513300", level=Level.PREFECTURE, name_zh="甘孜藏族自治州")
    at = dt.datetime(2021, 6, 1, 19, 30, tzinfo=TZ)
    with translation.override("zh-hans"):
        sentence = report_sentence(ganzi, at, doses=373657, first=330123, second=43534)
    assert "373657" in sentence and "330123" in sentence and "43534" in sentence
