"""The cold-chain pages: a store's temperature log (chart, flags, entry forms) and the open
excursions with their review, as each role sees them."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from vaxops.supply import coldchain
from vaxops.supply.models import Excursion, StockBalance, Store, TemperatureReading

T0 = dt.datetime(2021, 5, 10, 8, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
URL = "/supply/stores/KD-MASS/temperatures/"


def warm(world):
    readings = [(T0 + dt.timedelta(hours=h), 9.0) for h in range(11)] + [(T0 + dt.timedelta(hours=11), 5.0)]
    _, [e] = coldchain.record_temperatures(store_code="KD-MASS", readings=readings, kind="logger",
                                           acting_user=world.users["site_manager"], source="web")
    coldchain.record_temperatures(store_code="KD-MASS", readings=[(T0 + dt.timedelta(days=1, hours=1), 5.0)],
                                  kind="manual", acting_user=world.users["site_manager"], source="web")
    return e


def login(client, world, role, language="en"):
    client.force_login(world.users[role])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def test_the_log_shows_the_readings_chart_flags_and_forms(client, world):
    warm(world)
    r = login(client, world, "site_manager").get(URL, {"to": "2021-05-11"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'id="temperature-chart"' in html and "echarts.min.js" in html
    data = json.loads(html.split('id="chart-data" type="application/json">')[1].split("</script>")[0])
    assert len(data["points"]) == 13 and (data["low"], data["high"]) == (2, 8)
    assert [e["name"] for e in data["excursions"]] == ["heat alarm: above +8 °C for 10 h continuous"]
    assert 'data-testid="on-hold"' in html
    # 10 May: logger only, no manual reading; 11 May: a morning reading, no afternoon one.
    assert "10 May 2021" in html and "no morning and no afternoon reading" in html and "no afternoon reading" in html
    assert "660 min above 8 °C" in html
    assert 'data-testid="manual-form"' in html and 'data-testid="logger-form"' in html
    assert html.count("out-of-range") == 11


def test_the_page_is_in_chinese_by_default(client, world):
    warm(world)
    html = login(client, world, "site_manager", "zh-hans").get(URL, {"to": "2021-05-11"}).content.decode()
    assert "温度" in html and "库存已冻结" in html and "2021年5月10日" in html


def test_a_vaccinator_sees_the_log_without_the_forms(client, world):
    html = login(client, world, "vaccinator").get(URL).content.decode()
    assert 'data-testid="manual-form"' not in html and 'data-testid="logger-form"' not in html


@pytest.mark.parametrize(("role", "url", "status"), [
    ("site_manager", "/supply/stores/LD-MASS/temperatures/", 404),
    ("supply_officer_ld", "/supply/stores/KD-CDC/temperatures/", 404),
    ("grid_worker", URL, 403),
    ("vaccinator", "/supply/excursions/", 403),
    ("grid_worker", "/supply/excursions/", 403),
    ("supervisor", "/supply/excursions/", 200),
    ("supply_officer", "/supply/excursions/", 200),
])
def test_page_access(client, world, role, url, status):
    assert login(client, world, role).get(url).status_code == status


def test_anonymous_is_sent_to_the_login(client, world):
    for url in (URL, "/supply/excursions/"):
        r = client.get(url)
        assert r.status_code == 302 and "/login/" in r["Location"]


def test_a_manual_reading_entered_on_the_page(client, world):
    r = login(client, world, "site_manager").post(URL, {"form": "manual", "manual-at": "2021-05-12T08:30",
                                                        "manual-celsius": "4.5"})
    assert r.status_code == 302
    reading = TemperatureReading.objects.get()
    assert (reading.source, str(reading.celsius), reading.at) == ("manual", "4.50", T0 + dt.timedelta(days=2, minutes=30))
    page = client.get(r["Location"]).content.decode()
    assert "1 reading recorded." in page


@pytest.mark.parametrize(("celsius", "message"), [
    ("-61", "−60 to +60 °C"), ("61", "−60 to +60 °C"),
])
def test_an_impossible_manual_reading_is_refused_on_the_page(client, world, celsius, message):
    r = login(client, world, "site_manager").post(URL, {"form": "manual", "manual-at": "2021-05-12T08:30",
                                                        "manual-celsius": celsius})
    assert r.status_code == 422 and message in r.content.decode()
    assert not TemperatureReading.objects.exists()


def test_a_manual_reading_in_the_future_is_refused_on_the_page(client, world):
    r = login(client, world, "site_manager").post(URL, {"form": "manual", "manual-at": "2099-05-12T08:30",
                                                        "manual-celsius": "5"})
    assert r.status_code == 422 and 'data-error-code="occurred_in_future"' in r.content.decode()


def test_a_logger_file_uploaded_on_the_page_opens_an_excursion(client, world):
    rows = "\n".join(f"2021-05-10 {h:02d}:00,-1.5" for h in range(8, 11))
    upload = SimpleUploadedFile("log.csv", f"timestamp,celsius\n{rows}\n2021-05-10 11:00,4\n".encode(), "text/csv")
    r = login(client, world, "site_manager").post(URL, {"form": "logger", "logger-file": upload})
    assert r.status_code == 302, r.content.decode()[:2000]
    assert Store.objects.get(code="KD-MASS").on_hold
    page = client.get(r["Location"]).content.decode()
    assert "4 readings recorded." in page and "1 new excursion" in page


def test_a_logger_file_with_bad_rows_lists_them_on_the_page(client, world):
    upload = SimpleUploadedFile("log.csv", b"timestamp,celsius\n2021-05-10 08:00,4\nnever,4\n2021-05-10 09:00,99\n",
                                "text/csv")
    r = login(client, world, "site_manager").post(URL, {"form": "logger", "logger-file": upload})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'data-testid="row-errors"' in html and "Line 3" in html and "Line 4" in html
    assert not TemperatureReading.objects.exists()


def test_a_vaccinator_cannot_post_a_reading(client, world):
    r = login(client, world, "vaccinator").post(URL, {"form": "manual", "manual-at": "2021-05-12T08:30",
                                                      "manual-celsius": "4.5"})
    assert r.status_code == 403
    assert not TemperatureReading.objects.exists()


def test_open_excursions_show_hours_open_and_a_review_form(client, world):
    warm(world)
    html = login(client, world, "supervisor").get("/supply/excursions/").content.decode()
    assert 'data-testid="hours-open"' in html and "on hold for" in html
    assert 'data-testid="review-form"' in html and "Release after a VVM check" in html
    officer = login(client, world, "supply_officer").get("/supply/excursions/")
    assert 'data-testid="excursion"' in officer.content.decode()
    assert 'data-testid="review-form"' not in officer.content.decode()
    out = login(client, world, "supervisor_ld").get("/supply/excursions/").content.decode()
    assert 'data-testid="none"' in out
    # The way to each store's log of the area: Luding's stores only.
    assert 'href="/supply/stores/LD-MASS/temperatures/"' in out and "KD-MASS" not in out


def test_discard_on_the_page(client, world):
    e = warm(world)
    r = login(client, world, "supervisor").post("/supply/excursions/", {
        "excursion": e.pk, "decision": "discard", "note": "VVM stage 3"})
    assert r.status_code == 302
    assert not StockBalance.objects.filter(store__code="KD-MASS", on_hand__gt=0).exists()
    page = client.get(r["Location"]).content.decode()
    assert "written off as a cold-chain failure" in page


def test_a_review_without_a_note_is_refused_on_the_card(client, world):
    e = warm(world)
    r = login(client, world, "supervisor").post("/supply/excursions/", {
        "excursion": e.pk, "decision": "release_vvm", "note": ""})
    assert r.status_code == 422
    assert 'data-error-code="review_note_required"' in r.content.decode()
    assert Excursion.objects.get(pk=e.pk).status == "open"
