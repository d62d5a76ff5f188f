"""Importing people from files: every row accounted for, re-import creates nothing, bad files
write nothing (docs/imports.md)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from vaxops.core.errors import VaxopsError
from vaxops.interop.models import ImportJob, ImportRow
from vaxops.interop.runner import run_job
from vaxops.interop.services import create_job
from vaxops.interop.tests.helpers import PEOPLE_HEADER, csv_bytes, ident, person_row
from vaxops.registry.models import Person

pytestmark = pytest.mark.django_db


def run(world, data: bytes, *, role="county_command", name="people.csv", **kw):
    job = create_job("people", data, file_name=name, acting_user=world.users[role], source="cli", **kw)
    return run_job(job.pk)


def rows_of(job):
    return {r.row_number: (r.status, r.column, r.code) for r in ImportRow.objects.filter(job=job)}


def test_every_row_is_accounted_for_and_reimport_creates_nothing(world):
    data = csv_bytes(PEOPLE_HEADER, [
        person_row(1), person_row(3),
        [ident(5), "李四", "12345", "513301001", ""],  # bad phone
        [ident(7, "513322"), "王五", "", "513322001", ""],  # Luding: outside Kangding's command
        person_row(1),  # the same row again
        ["", "赵六", "", "513301001", ""],
    ])
    job = run(world, data)
    assert (job.rows, job.created, job.already_present, job.updated, job.rejected) == (6, 2, 0, 0, 4)
    assert rows_of(job) == {
        2: ("created", "", ""), 3: ("created", "", ""), 4: ("rejected", "phone", "invalid_phone"),
        5: ("rejected", "division_code", "division_not_found"), 6: ("rejected", "", "import_duplicate_row"),
        7: ("rejected", "id_number", "import_missing_value"),
    }
    assert Person.objects.filter(id_number__in=[ident(1), ident(3)]).count() == 2
    assert not Person.objects.filter(id_number=ident(7, "513322")).exists()
    again = run(world, data)
    assert (again.created, again.already_present, again.rejected) == (0, 2, 4)
    assert Person.objects.count() == 2


def test_chinese_headers_and_gb18030(world):
    header = ["身份证号", "姓名", "手机号", "居住地区划代码", "重点人群"]
    data = csv_bytes(header, [person_row(1, name="欧阳娜娜")], encoding="gb18030")
    job = run(world, data)
    assert (job.encoding, job.created) == ("gb18030", 1)
    assert Person.objects.get(id_number=ident(1)).name == "欧阳娜娜"


@pytest.mark.parametrize(("data", "kw", "code"), [
    (b"", {}, "import_empty_file"),
    (csv_bytes(PEOPLE_HEADER + ["remarks"], [person_row(1) + ["x"]]), {}, "import_unknown_column"),
    (csv_bytes(["id_number", "phone", "division_code"], [[ident(1), "", "513301001"]]), {},
     "import_missing_column"),
    (csv_bytes(PEOPLE_HEADER, [person_row(1, name="欧阳娜娜")], encoding="gb18030"), {"encoding": "utf-8"},
     "import_bad_encoding"),
    (csv_bytes(PEOPLE_HEADER, [person_row(1, name="欧阳娜娜")]), {"encoding": "gb18030"}, "import_bad_encoding"),
    (b"\xff\xfe\x00\x01binary\x80\x81", {}, "import_bad_encoding"),
])
def test_bad_files_are_refused_and_write_nothing(world, data, kw, code):
    with pytest.raises(VaxopsError) as exc:
        create_job("people", data, file_name="p.csv", acting_user=world.users["county_command"], source="cli", **kw)
    assert exc.value.code == code
    assert str(exc.value.message)
    assert not ImportJob.objects.exists() and not Person.objects.exists()


def test_size_limit(world, settings):
    settings.VAXOPS_IMPORT_MAX_BYTES = 100
    data = csv_bytes(PEOPLE_HEADER, [person_row(i) for i in range(1, 6)])
    with pytest.raises(VaxopsError) as exc:
        create_job("people", data, file_name="p.csv", acting_user=world.users["admin"], source="cli")
    assert exc.value.code == "import_too_large" and exc.value.detail["limit_bytes"] == 100


def test_only_county_command_and_admin_import(world):
    data = csv_bytes(PEOPLE_HEADER, [person_row(1)])
    with pytest.raises(VaxopsError) as exc:
        create_job("people", data, file_name="p.csv", acting_user=world.users["vaccinator"], source="cli")
    assert exc.value.code == "permission_denied"


def test_formula_cells_stay_text_and_the_report_defuses_them(world):
    from vaxops.interop.report import as_csv, report_rows

    data = csv_bytes(PEOPLE_HEADER, [[ident(1), '=HYPERLINK("http://x","y")', "", "513301001", ""]])
    job = run(world, data)
    assert rows_of(job)[2] == ("rejected", "name", "invalid_name")
    text = as_csv(report_rows(job)).decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "\n2," in text.replace("\r\n", "\n")


def test_cli_json_contract(world, capsys, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(PEOPLE_HEADER, [person_row(1), person_row(1), [ident(3), "x1", "", "513301001", ""]]))
    call_command("import", "people", str(path), "--user", "county_command", "--json", "--no-progress")
    out = json.loads(capsys.readouterr().out)
    assert {k: out[k] for k in ("rows", "created", "already_present", "updated", "rejected")} == {
        "rows": 3, "created": 1, "already_present": 0, "updated": 0, "rejected": 2}
    report = Path(out["report"]).read_text(encoding="utf-8-sig")
    assert "import_duplicate_row" in report and "invalid_name" in report
    call_command("import", "jobs", "--json")
    jobs = json.loads(capsys.readouterr().out)
    assert jobs[0] == {"job": out["job"], "kind": "people", "state": "done", "rows_done": 3, "rows": 3}


def test_a_changed_phone_or_name_updates_the_person(world):
    run(world, csv_bytes(PEOPLE_HEADER, [person_row(1), person_row(3)]))
    job = run(world, csv_bytes(PEOPLE_HEADER, [person_row(1, phone="13800000001"), person_row(3)]))
    assert (job.created, job.already_present, job.updated, job.rejected) == (0, 1, 1, 0)
    assert Person.objects.get(id_number=ident(1)).phone == "13800000001"


def test_all_or_nothing_writes_nothing_when_a_row_is_bad(world):
    bad = csv_bytes(PEOPLE_HEADER, [person_row(1), person_row(3), [ident(5), "李四", "123", "513301001", ""]])
    job = run(world, bad, mode="all")
    assert (job.rows, job.created, job.rejected) == (3, 0, 3)
    assert rows_of(job) == {2: ("rejected", "", "import_batch_refused"), 3: ("rejected", "", "import_batch_refused"),
                            4: ("rejected", "phone", "invalid_phone")}
    assert not Person.objects.exists()
    good = run(world, csv_bytes(PEOPLE_HEADER, [person_row(1), person_row(3)]), mode="all")
    assert (good.created, good.rejected, Person.objects.count()) == (2, 0, 2)


def test_xlsx_file_with_chinese_headers(world):
    from vaxops.interop.report import as_xlsx

    header = ["身份证号", "姓名", "手机号", "居住地区划代码", "重点人群"]
    data = as_xlsx(iter([header, person_row(1), person_row(3)]), "people")
    job = run(world, data, name="people.xlsx")
    assert (job.format, job.created) == ("xlsx", 2)


def test_cli_jobs_for_a_user_lists_only_the_jobs_of_their_area(world, capsys, tmp_path):
    path = tmp_path / "people.csv"
    path.write_bytes(csv_bytes(PEOPLE_HEADER, [person_row(1)]))
    call_command("import", "people", str(path), "--user", "county_command", "--json", "--no-progress")
    job = json.loads(capsys.readouterr().out)["job"]
    call_command("import", "jobs", "--json", "--user", "county_command")
    assert [j["job"] for j in json.loads(capsys.readouterr().out)] == [job]
    call_command("import", "jobs", "--json", "--user", "county_command_ld")
    assert json.loads(capsys.readouterr().out) == []
    with pytest.raises(CommandError, match="permission_denied"):
        call_command("import", "jobs", "--json", "--user", "vaccinator")
