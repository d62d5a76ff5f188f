"""The demo's key groups and targets at the test scale: Ganzi's first-half-year first-dose
targets met ahead of schedule by 2021-06-01 19:00, as the prefecture reported, and key groups
with their coverage and the removed shown."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from vaxops.campaign import demo
from vaxops.regions.models import Division
from vaxops.reports.sections import ReportContext
from vaxops.targets.report import targets_section
from vaxops.targets.services import progress_items

pytestmark = pytest.mark.django_db


@pytest.fixture
def built(demo_built):
    return demo_built


def test_every_ganzi_county_and_the_prefecture_met_the_target_ahead_on_june_1(built):
    prefecture = Division.objects.get(code="513300")
    items = progress_items(prefecture, demo.REPORT_AT, None)
    assert len(items) == 19
    assert all(i["met_ahead"] and i["met_on"] <= dt.date(2021, 6, 1) for i in items)
    assert [i["rank"] for i in items if i["is_child"]] == list(range(1, 19))
    assert built.later["targets"]["met_ahead"] == 19


def test_the_report_section_says_the_target_was_met_ahead(built):
    prefecture = Division.objects.get(code="513300")
    start = dt.datetime.combine(demo.REPORT_AT.date(), dt.time.min, tzinfo=demo.REPORT_AT.tzinfo)
    ctx = ReportContext(division=prefecture, day=demo.REPORT_AT.date(), start=start, cutoff=demo.REPORT_AT)
    with translation.override("zh-hans"):
        section = targets_section(ctx)
    assert section.sentence == "全州已提前完成上半年第1剂次接种目标任务"
    assert len(section.rows) == 19


def test_key_groups_have_members_coverage_and_removed_people(built):
    from vaxops.keygroups.models import Membership
    from vaxops.keygroups.stats import group_figures, in_area

    figures = {g["code"]: g for g in group_figures(in_area(Membership.objects.all(), Division.objects.get(
        code="513300")), demo.REPORT_AT)}
    staff = figures["medical_staff"]
    assert staff["registered"] > 0
    from vaxops.registry.models import Deferral

    # Some members not vaccinated by 1 June are permanently contraindicated: removed from the eligible.
    assert sum(g["contraindicated"] for g in figures.values()) >= 1
    assert Deferral.objects.filter(until__isnull=True).count() == built.later["targets"]["contraindicated"]
    # The groups are not all vaccinated: the members the campaign had not reached are registered too.
    assert any(g["not_vaccinated"] for g in figures.values())
    assert staff["eligible"] == staff["registered"] - staff["removed"]
    assert 0.5 < staff["coverage"] <= 1
    assert figures["monastics"]["registered"] > 0 and figures["university_students"]["registered"] > 0
    jingxi = group_figures(in_area(Membership.objects.all(), Division.objects.get(code="451081")), demo.REPORT_AT)
    assert next(g for g in jingxi if g["code"] == "border_residents")["registered"] > 0
