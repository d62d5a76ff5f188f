"""API messages read in words in the request's language: product names, not codes; dates in
the language's one format (2021年6月1日 / 1 June 2021). ``detail`` keeps codes and ISO dates."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from conftest import dose_body, make_person
from vaxops.core.errors import VaxopsError

BIBP_ZH = "新冠病毒灭活疫苗(Vero细胞)·北京生物"
BIBP_EN = "COVID-19 vaccine inactivated (Vero) - Beijing Institute"
CORONAVAC_ZH = "新冠病毒灭活疫苗(Vero细胞)·北京科兴"


@pytest.fixture
def vaccinator_in(api, world):
    return lambda language: api(world.tokens["vaccinator"], language=language)


def test_an_expired_lot_is_refused_with_its_expiry_day_in_words(vaccinator_in, person):
    body = dose_body(person.pk, lot="B2020999")
    en = vaccinator_in("en").post("/doses", body).json()
    zh = vaccinator_in("zh-Hans").post("/doses", body).json()
    assert en["message"] == "Lot B2020999 expired on 1 March 2021."
    assert zh["message"] == "批号B2020999已于2021年3月1日过期。"
    assert en["detail"]["expiry_date"] == zh["detail"]["expiry_date"] == "2021-03-01"


def test_a_lot_of_another_product_names_both_products(vaccinator_in, person):
    body = dose_body(person.pk, lot="C2021001", product="BIBP")
    en = vaccinator_in("en").post("/doses", body).json()
    zh = vaccinator_in("zh-Hans").post("/doses", body).json()
    assert en["message"] == f"Lot C2021001 is CoronaVac, not {BIBP_EN}."
    assert zh["message"] == f"批号C2021001属于{CORONAVAC_ZH}，不是{BIBP_ZH}。"
    assert (zh["detail"]["lot_product"], zh["detail"]["product"]) == ("CORONAVAC", "BIBP")


def test_an_unknown_product_reads_back_as_typed(vaccinator_in, person):
    r = vaccinator_in("zh-Hans").post("/doses", dose_body(person.pk, product="NOPE"))
    assert r.json()["message"] == "未知的疫苗产品：NOPE。"


def test_a_dose_too_early_gives_the_earliest_day_and_its_reasons_in_words(vaccinator_in, person):
    vaccinator_in("en").post("/doses", dose_body(person.pk, at="2021-05-01T09:00:00+08:00"))
    early = dose_body(person.pk, at="2021-05-15T09:00:00+08:00")
    en = vaccinator_in("en").post("/doses", early).json()
    zh = vaccinator_in("zh-Hans").post("/doses", early).json()
    assert en["code"] == zh["code"] == "dose_too_early"
    assert en["message"] == "Too early for this dose: it can be given from 22 May 2021."
    assert zh["message"] == "接种时间过早：2021年5月22日起方可接种。"
    assert zh["detail"]["earliest_date"] == "2021-05-22"
    [interval] = [r for r in zh["detail"]["reasons"] if r["code"] == "min_interval"]
    assert interval["message"] == "第2剂与上一剂（2021年5月1日）至少间隔21天；2021年5月22日起可接种。"
    assert interval["params"]["previous_dose_date"] == "2021-05-01"


def test_eligibility_reasons_name_the_product_in_the_request_language(api, world):
    child = make_person(world, born=dt.date(2018, 3, 1), seq=125, name="李四")
    vaccinator = world.tokens["vaccinator"]
    zh = api(vaccinator, language="zh-Hans").get(f"/people/{child.pk}/eligibility", product="BIBP", on="2021-06-01")
    en = api(vaccinator, language="en").get(f"/people/{child.pk}/eligibility", product="BIBP", on="2021-06-01")
    [zh_reason] = zh.json()["reasons"]
    [en_reason] = en.json()["reasons"]
    assert zh_reason["message"] == f"{BIBP_ZH}自2021年10月25日起向3-11岁人群开放。"
    assert en_reason["message"] == f"{BIBP_EN} opens to ages 3-11 on 25 October 2021."
    assert zh_reason["params"] == en_reason["params"]
    assert zh_reason["params"]["product"] == "BIBP" and zh_reason["params"]["earliest_date"] == "2021-10-25"


def test_an_error_detail_date_reads_in_words_whatever_raised_it(db):
    error = VaxopsError("lot_expired", {"lot_number": "X1", "expiry_date": dt.date(2021, 6, 1)})
    with translation.override("en"):
        assert error.message == "Lot X1 expired on 1 June 2021."
    with translation.override("zh-hans"):
        assert error.message == "批号X1已于2021年6月1日过期。"
