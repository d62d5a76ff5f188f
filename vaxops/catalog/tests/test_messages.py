"""Reason messages name products, platforms, deferrals and dates in words, in the reader's
language; their ``params`` stay codes and ISO dates for outside tools."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from vaxops.catalog import rules
from vaxops.catalog.messages import REASON_TEXTS, fill, reason_message, verdict_reasons

pytestmark = pytest.mark.django_db

BIBP_ZH = "新冠病毒灭活疫苗(Vero细胞)·北京生物"
BIBP_EN = "COVID-19 vaccine inactivated (Vero) - Beijing Institute"


def zh(code: str, **params) -> str:
    with translation.override("zh-hans"):
        return reason_message(code, params)


def en(code: str, **params) -> str:
    with translation.override("en"):
        return reason_message(code, params)


def test_the_minimum_age_message_names_the_product_and_the_day_in_words():
    params = {"product": "BIBP", "min_age": 3, "earliest_date": "2021-10-25"}
    assert zh("age_below_minimum", **params) == f"{BIBP_ZH}的最小接种年龄为3岁；2021年10月25日起可接种。"
    assert en("age_below_minimum", **params) == (
        f"The minimum age for {BIBP_EN} is 3; eligible from 25 October 2021."
    )


def test_a_sequential_booster_names_the_primary_platform_in_words():
    params = {"product": "AD5", "primary_platform": "inactivated"}
    assert zh("booster_sequential", **params) == "在灭活疫苗基础免疫后用重组新冠病毒疫苗(5型腺病毒载体)进行序贯加强。"
    assert en("booster_sequential", **params) == (
        "Sequential booster with Ad5-nCoV after a primary series of inactivated vaccine."
    )
    assert "a inactivated" not in en("booster_sequential", **params)


def test_platform_mixing_names_both_products_and_both_platforms():
    params = {"product": "AD5", "platform": "adenovirus_vector", "series_product": "BIBP",
              "series_platform": "inactivated"}
    text = zh("platform_mix", **params)
    assert "灭活疫苗" in text and "腺病毒载体疫苗" in text and BIBP_ZH in text
    assert "BIBP" not in text and "inactivated" not in text
    assert en("platform_mix", **params) == (
        f"The series was started with {BIBP_EN} (inactivated vaccine) and cannot continue with Ad5-nCoV "
        "(adenovirus-vector vaccine): only a product of the same platform may complete a series."
    )


def test_the_allowed_boosters_are_listed_by_name():
    params = {"product": "ZF2001", "allowed": "BIBP, CORONAVAC"}
    assert zh("booster_product_not_allowed", **params).endswith(
        f"可用疫苗：{BIBP_ZH}、新冠病毒灭活疫苗(Vero细胞)·北京科兴。"
    )
    assert en("booster_product_not_allowed", **params).endswith(f"allowed: {BIBP_EN}, CoronaVac.")


def test_a_deferral_reads_by_its_label_and_its_dates_in_words():
    params = {"deferral_code": "acute_illness", "until": "2021-05-12", "earliest_date": "2021-05-13"}
    assert en("deferred", **params) == (
        "Vaccination is deferred (fever, acute illness or acute attack of a chronic disease) until "
        "12 May 2021; eligible from 13 May 2021."
    )
    assert "2021年5月12日" in zh("deferred", **params) and "acute_illness" not in zh("deferred", **params)


def test_the_interval_and_overdue_messages_give_every_date_in_one_format():
    interval = {"dose_number": 2, "days": 21, "previous_dose_date": "2021-05-01", "earliest_date": "2021-05-22"}
    assert zh("min_interval", **interval) == "第2剂与上一剂（2021年5月1日）至少间隔21天；2021年5月22日起可接种。"
    overdue = {"dose_number": 2, "due_by": "2021-06-01", "days_late": 3}
    assert "1 June 2021" in en("dose_overdue", **overdue)
    assert "2021年6月1日前" in zh("dose_overdue", **overdue)


def test_an_unknown_product_code_reads_as_written():
    assert "XYZ9" in zh("unknown_product", product_code="XYZ9")


def test_verdict_params_stay_codes_and_iso_dates():
    params = {"product": "BIBP", "age_group": "12-17", "earliest_date": "2021-07-01"}
    verdict = rules.Verdict(
        status="not_yet", dose_number=1, kind="primary", earliest_date=dt.date(2021, 7, 1), due_by=None,
        overdue=False, reasons=(rules.Reason("age_group_not_yet_open", dict(params)),),
    )
    with translation.override("en"):
        [reason] = verdict_reasons(verdict)
    assert reason["params"] == params
    assert reason["message"] == f"{BIBP_EN} opens to ages 12-17 on 1 July 2021."


def test_a_new_reason_following_the_naming_convention_reads_in_words_with_no_more_work():
    template = "{product} after {first_product} ({series_platform}), from {start_date}, on {on}, by {due_by}; {allowed}."
    params = {"product": "AD5", "first_product": "BIBP", "series_platform": "inactivated",
              "start_date": "2021-06-01", "on": "2021-06-02", "due_by": "2021-06-03", "allowed": ["WIBP"]}
    with translation.override("en"):
        assert fill(template, params) == (
            f"Ad5-nCoV after {BIBP_EN} (inactivated vaccine), from 1 June 2021, on 2 June 2021, "
            "by 3 June 2021; COVID-19 vaccine inactivated (Vero) - Wuhan Institute."
        )


def test_every_reason_text_renders_in_both_languages_with_words_only():
    # Every parameter a rule can give, by the naming convention: no code or ISO date survives.
    sample = {
        "product": "BIBP", "series_product": "CORONAVAC", "previous_product": "WIBP", "last_product": "WIBP",
        "product_code": "XYZ9", "platform": "adenovirus_vector", "series_platform": "recombinant_protein",
        "primary_platform": "adenovirus_vector", "allowed": "BIBP, WIBP", "deferral_code": "acute_illness",
        "birth_date": "2021-06-02", "on": "2021-06-01", "earliest_date": "2021-06-22",
        "previous_dose_date": "2021-06-01", "completed_on": "2021-06-01", "other_given_on": "2021-05-30",
        "until": "2021-06-20", "due_by": "2021-07-27", "product_doses": 2, "series_doses": 3, "age": 70,
        "min_age": 18, "age_group": "12-17", "dose_number": 2, "days": 21, "days_late": 3,
    }
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for code in REASON_TEXTS:
                text = reason_message(code, sample)
                assert "{" not in text, (code, text)
                # Platform and deferral codes have underscores; no name or label has one.
                for raw in ("BIBP", "CORONAVAC", "WIBP", "_", "2021-0"):
                    assert raw not in text, (language, code, text)


def test_a_product_renamed_in_this_process_is_named_anew_at_once():
    from vaxops.catalog.models import Product

    assert en("age_above_maximum", product="WIBP", age=70).startswith("COVID-19 vaccine inactivated (Vero) - Wuhan")
    product = Product.objects.get(code="WIBP")
    product.name_en = "WIBP inactivated vaccine"
    product.save()
    assert en("age_above_maximum", product="WIBP", age=70) == "WIBP inactivated vaccine is not authorised at age 70."
    product.name_en = "COVID-19 vaccine inactivated (Vero) - Wuhan Institute"
    product.save()  # the test's rollback sends no signal: leave the process's names as they were
