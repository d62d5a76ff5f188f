"""The sync conflicts page: both records in words, resolve from the form, access by area."""

from __future__ import annotations

import pytest

from conftest import dose_body
from vaxops.access.services import create_user
from vaxops.vaccination.models import DoseConflict, DoseRecord


@pytest.fixture
def conflict(api, world, person):
    _user, tablet = create_user(username="tablet", role="vaccinator", scope="KD-MASS", with_token=True, source="cli")
    api(world.tokens["vaccinator"]).post("/doses", dose_body(person.pk, at="2021-05-10T09:00:00+08:00"))
    item = dose_body(person.pk, product="CORONAVAC", lot="C2021001", at="2021-05-10T11:30:00+08:00")
    result = api(tablet).post("/doses/batch", {"items": [item]}).json()["results"][0]
    return DoseConflict.objects.get(pk=result["conflict"])


def page(client, world, role, language="en", **params):
    client.force_login(world.users[role])
    client.cookies["django_language"] = language
    return client.get("/doses/conflicts/", params)


def test_both_records_read_in_words(client, world, conflict, person):
    r = page(client, world, "site_manager")
    html = r.content.decode()
    assert r.status_code == 200
    assert "10 May 2021" in html and "11:30" in html and "09:00" in html
    assert "CoronaVac" in html or "Sinovac" in html, html
    assert person.id_number not in html and person.id_number_masked in html
    zh = page(client, world, "site_manager", language="zh-hans").content.decode()
    assert "2021年5月10日" in zh and "康定体育馆大规模接种点" in zh


def test_resolving_from_the_page(client, world, conflict):
    page(client, world, "site_manager")
    r = client.post("/doses/conflicts/", {"conflict": conflict.pk, "keep": "existing", "reason": ""})
    assert r.status_code == 422 and "Write the reason" in r.content.decode()
    r = client.post("/doses/conflicts/", {"conflict": conflict.pk, "keep": "incoming", "reason": "平板为准"})
    assert r.status_code == 302
    conflict.refresh_from_db()
    assert conflict.status == "closed" and conflict.resolution == "kept_incoming"
    assert DoseRecord.objects.filter(status="valid").count() == 1
    closed = client.get("/doses/conflicts/", {"status": "closed"}).content.decode()
    assert "平板为准" in closed and "Kept the device's record" in closed


@pytest.mark.parametrize(("role", "status", "sees"), [
    ("county_command", 200, True), ("supervisor", 200, True), ("county_command_ld", 200, False),
    ("site_manager_ld", 200, False), ("vaccinator", 403, False),
])
def test_who_sees_the_page(client, world, conflict, role, status, sees):
    r = page(client, world, role)
    assert r.status_code == status
    assert (f'data-conflict="{conflict.pk}"' in r.content.decode()) is sees
    if role == "supervisor":
        assert 'data-testid="resolve-form"' not in r.content.decode()
