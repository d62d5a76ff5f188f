"""The import pages: who may use them, the upload, the job page, the report and templates."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from vaxops.interop import views
from vaxops.interop.models import ImportJob
from vaxops.interop.runner import run_job
from vaxops.interop.tests.helpers import PEOPLE_HEADER, csv_bytes, ident, person_row

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _run_inline(monkeypatch):
    # The test's transaction is not visible to another thread: run the job in this one.
    monkeypatch.setattr(views, "run_in_thread", lambda job_id: run_job(job_id))


def upload(client, data: bytes, name="people.csv", **fields):
    f = io.BytesIO(data)
    f.name = name
    return client.post("/imports/", {"kind": "people", "mode": "rows", "encoding": "auto", "reason": "",
                                     "file": f, **fields}, HTTP_ACCEPT_LANGUAGE="en")


def test_upload_then_job_page_and_report(client, world, settings):
    client.force_login(world.users["county_command"])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # pages are in Chinese unless English is chosen
    data = csv_bytes(PEOPLE_HEADER, [person_row(1), [ident(3), "李四", "12", "513301001", '=HYPERLINK("x")']])
    response = upload(client, data)
    assert response.status_code == 302
    job = ImportJob.objects.get()
    page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-testid="created">1<' in page and 'data-testid="rejected">1<' in page
    assert "invalid_phone" in page and "The phone number must be 11 digits" in page
    report = client.get(f"/imports/{job.pk}/report.csv", HTTP_ACCEPT_LANGUAGE="en").content.decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(report)))
    assert lines[0][:5] == ["Row", "Status", "Column", "Code", "Message"]
    assert lines[2][:4] == ["3", "rejected", "phone", "invalid_phone"] and lines[2][-1] == "'=HYPERLINK(\"x\")"
    book = load_workbook(io.BytesIO(client.get(f"/imports/{job.pk}/report.xlsx").content))
    cells = [c.value for c in next(book.active.iter_rows(min_row=3, max_row=3))]
    assert cells[-1] == "'=HYPERLINK(\"x\")" and book.active.cell(3, 1).data_type != "f"


def test_a_bad_file_is_refused_on_the_form_and_writes_nothing(client, world):
    client.force_login(world.users["admin"])
    response = upload(client, csv_bytes(PEOPLE_HEADER + ["notes"], [person_row(1) + [""]]))
    assert response.status_code == 422
    assert 'data-error-code="import_unknown_column"' in response.content.decode()
    assert not ImportJob.objects.exists()


def test_only_importers_see_the_page_and_jobs_stay_in_their_area(client, world):
    client.force_login(world.users["county_command"])
    upload(client, csv_bytes(PEOPLE_HEADER, [person_row(1)]))
    job = ImportJob.objects.get()
    client.force_login(world.users["vaccinator"])
    assert client.get("/imports/").status_code == 403
    client.force_login(world.users["county_command_ld"])
    assert client.get(f"/imports/{job.pk}/").status_code == 404
    assert f"/imports/{job.pk}/" not in client.get("/imports/").content.decode()
    client.force_login(world.users["admin"])
    assert client.get(f"/imports/{job.pk}/").status_code == 200


@pytest.mark.parametrize(("lang", "first"), [("zh-hans", "身份证号"), ("en", "id_number")])
def test_templates_in_both_languages(client, world, lang, first):
    client.force_login(world.users["county_command"])
    text = client.get(f"/imports/templates/doses.csv?lang={lang}").content.decode("utf-8-sig")
    assert text.split(",")[0] == first
    book = load_workbook(io.BytesIO(client.get(f"/imports/templates/people.xlsx?lang={lang}").content))
    assert book.active.cell(1, 1).value == first


def test_an_interrupted_job_offers_resume(client, world):
    from vaxops.interop.services import create_job

    client.force_login(world.users["county_command"])
    job = create_job("people", csv_bytes(PEOPLE_HEADER, [person_row(1)]), file_name="p.csv",
                     acting_user=world.users["county_command"], source="web")
    ImportJob.objects.filter(pk=job.pk).update(state="running", worker="999999999:gone")
    page = client.get(f"/imports/{job.pk}/").content.decode()
    assert 'data-testid="resume"' in page
    response = client.post(f"/imports/{job.pk}/resume/")
    assert response.status_code == 302
    job.refresh_from_db()
    assert (job.state, job.created) == ("done", 1)
