"""The supervisors' page of overrides and retrospective entries."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import dose_body, make_person
from vaxops.registry.models import Deferral

pytestmark = pytest.mark.usefixtures("real_retrospective_window")


@pytest.fixture
def entries(api, world):
    late = make_person(world, seq=601, name="迟录者")
    deferred = make_person(world, seq=603, name="缓种者")
    today = dt.date.today()
    Deferral.objects.create(person=deferred, code="acute_illness", since=today - dt.timedelta(days=1),
                            until=today + dt.timedelta(days=3))
    manager = api(world.tokens["site_manager"])
    assert manager.post("/doses", dose_body(late.pk, at="2021-06-01T10:00:00+08:00",
                                            retrospective_reason="纸质登记补录")).status_code == 201
    assert manager.post("/doses", dose_body(deferred.pk, at=dt.datetime.now(dt.UTC).isoformat(),
                                            override_reason="发热已退，经现场医生检查同意接种")).status_code == 201
    return {"late": late, "deferred": deferred}


def login(client, world, role):
    client.force_login(world.users[role])
    return client


def test_supervisor_sees_the_overrides_page_with_masked_ids(client, world, entries):
    r = login(client, world, "supervisor").get("/doses/review/overrides/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert r.status_code == 200
    body = r.content.decode()
    assert "缓种者" in body and entries["deferred"].id_number_masked in body
    assert entries["deferred"].id_number not in body
    assert "发热已退" in body and "迟录者" not in body
    assert "/doses/review/overrides/" in body  # the nav link


def test_supervisor_sees_the_retrospective_page(client, world, entries):
    r = login(client, world, "supervisor").get("/doses/review/retrospective/")
    body = r.content.decode()
    assert r.status_code == 200 and "迟录者" in body and "纸质登记补录" in body


def test_the_page_filters_by_area_and_refuses_one_outside(client, world, entries):
    c = login(client, world, "prefecture_command")
    assert "缓种者" in c.get("/doses/review/overrides/", {"division": "513301"}).content.decode()
    assert "缓种者" not in c.get("/doses/review/overrides/", {"division": "513322"}).content.decode()
    outside = login(client, world, "supervisor").get("/doses/review/overrides/", {"division": "513322"})
    assert outside.status_code == 200 and "缓种者" not in outside.content.decode()


def test_site_staff_get_no_page_and_no_link(client, world, entries):
    c = login(client, world, "vaccinator")
    assert c.get("/doses/review/overrides/").status_code == 403
    assert "/doses/review/" not in c.get("/desk/").content.decode()


def test_the_index_opens_the_overrides(client, world):
    r = login(client, world, "supervisor").get("/doses/review/")
    assert r.status_code == 302 and r["Location"].endswith("/doses/review/overrides/")


def test_anonymous_is_sent_to_login(client):
    r = client.get("/doses/review/overrides/")
    assert r.status_code == 302 and "/login/" in r["Location"]
