"""Importing doses: retrospective entries by the county command, idempotent by derived
submission IDs, people registered on the way (docs/imports.md)."""

from __future__ import annotations

import uuid

import pytest

from conftest import make_person
from vaxops.core.errors import VaxopsError
from vaxops.interop.doses import derived_uuid, parse_moment
from vaxops.interop.models import ImportRow
from vaxops.interop.runner import run_job
from vaxops.interop.services import create_job
from vaxops.interop.tests.helpers import DOSE_HEADER, csv_bytes, dose_row, ident
from vaxops.registry.models import Person
from vaxops.vaccination.models import DoseRecord

pytestmark = pytest.mark.django_db
REASON = "paper records of the Kangding gymnasium"


@pytest.fixture(autouse=True)
def _real_window(settings):
    # The test settings treat every 2021 dose as recorded on its day; imports are late entries.
    settings.VAXOPS_RETROSPECTIVE_HOURS = 24


def run(world, data: bytes, *, role="county_command", reason=REASON, **kw):
    job = create_job("doses", data, file_name="doses.csv", acting_user=world.users[role], source="cli",
                     reason=reason, **kw)
    return run_job(job.pk)


def outcomes(job):
    return {r.row_number: (r.status, r.column, r.code) for r in ImportRow.objects.filter(job=job)}


def test_doses_are_retrospective_entries_and_reimport_creates_nothing(world):
    for seq in (1, 3, 5):
        make_person(world, seq=seq, name="张三")
    given = str(uuid.uuid4())
    data = csv_bytes(DOSE_HEADER, [
        dose_row(1), dose_row(3, client_uuid=given), dose_row(5, lot="B2021R01"),
        dose_row(7),  # nobody with this ID number
        dose_row(1, at="2021-05-10 10:00:00"),  # no offset
        dose_row(1),  # same row again
        dose_row(3, site="LD-MASS"),  # another county's site
    ])
    job = run(world, data)
    assert outcomes(job) == {
        2: ("created", "", ""), 3: ("created", "", ""), 4: ("rejected", "lot_number", "lot_recalled"),
        5: ("rejected", "id_number", "person_not_found"), 6: ("rejected", "administered_at", "invalid_datetime"),
        7: ("rejected", "", "import_duplicate_row"), 8: ("rejected", "site_code", "site_not_found"),
    }
    doses = list(DoseRecord.objects.order_by("person__id_number"))
    assert len(doses) == 2 and all(d.retrospective and d.retrospective_reason == REASON for d in doses)
    assert {str(d.client_uuid) for d in doses} == {
        given, str(derived_uuid(ident(1), "BIBP", "B2021001", "KD-MASS", parse_moment("2021-05-10T10:00:00+08:00"),
                                None))}
    again = run(world, data)
    assert (again.created, again.already_present, again.rejected) == (0, 2, 5)
    assert DoseRecord.objects.count() == 2


def test_reason_is_required(world):
    with pytest.raises(VaxopsError) as exc:
        run(world, csv_bytes(DOSE_HEADER, [dose_row(1)]), reason=" ")
    assert exc.value.code == "import_reason_required"


def test_dose_file_registers_missing_people_first(world):
    header = DOSE_HEADER + ["name", "division_code"]
    make_person(world, seq=3, name="李四")
    data = csv_bytes(header, [
        dose_row(1) + ["张三", "513301001"],  # registered, then vaccinated
        dose_row(3) + ["李四", "513301001"],  # already registered
        dose_row(5) + ["王五", "513322001"],  # home outside Kangding: refused
    ])
    job = run(world, data)
    assert outcomes(job) == {2: ("created", "", ""), 3: ("created", "", ""),
                             4: ("rejected", "division_code", "division_not_found")}
    assert Person.objects.filter(id_number=ident(1), name="张三").exists()
    assert not Person.objects.filter(id_number=ident(5)).exists()


def test_a_person_outside_the_area_is_rejected(world):
    make_person(world, seq=9, county="513322", name="赵六")
    job = run(world, csv_bytes(DOSE_HEADER, [dose_row(9, county="513322")]))
    assert outcomes(job) == {2: ("rejected", "id_number", "person_not_found")}


class Crash(Exception):
    pass


@pytest.mark.parametrize("kind", ["people", "doses"])
def test_a_chunk_written_but_not_recorded_is_redone_and_reported_as_first_written(world, monkeypatch, kind):
    """The worst moment to die: the batch service has committed a chunk's rows, the job's
    progress not yet. The resumed job redoes the chunk; rows come back as already present and
    are reported as created, as the first attempt would have; rows present before the job stay
    already present."""
    from vaxops.interop import runner
    from vaxops.interop.models import ImportJob
    from vaxops.interop.tests.helpers import PEOPLE_HEADER, person_row

    make_person(world, seq=3, name=("王五" if kind == "people" else "张三"))
    if kind == "people":
        data = csv_bytes(PEOPLE_HEADER, [person_row(1), person_row(3, name="王五"), person_row(5), person_row(7)])
    else:
        for seq in (1, 5, 7):
            make_person(world, seq=seq, name="张三")
        first = run(world, csv_bytes(DOSE_HEADER, [dose_row(3)]))
        assert first.created == 1
        data = csv_bytes(DOSE_HEADER, [dose_row(1), dose_row(3), dose_row(5), dose_row(7)])
    real_commit, calls = runner._commit, []

    def dying_commit(job, results, done):
        calls.append(done)
        if len(calls) == 2:
            raise Crash  # the second chunk is in the database, its outcome is not
        real_commit(job, results, done)

    monkeypatch.setattr(runner, "_commit", dying_commit)
    kw = {"reason": REASON} if kind == "doses" else {}
    job = create_job(kind, data, file_name="f.csv", acting_user=world.users["county_command"], source="cli",
                     chunk_size=2, **kw)
    with pytest.raises(Crash):
        run_job(job.pk)
    job.refresh_from_db()
    assert (job.state, job.rows_done) == ("running", 2)
    monkeypatch.setattr(runner, "_commit", real_commit)
    done = run_job(job.pk)  # claim() finds the worker gone and marks it interrupted first
    assert (done.state, done.rows_done, done.created, done.already_present, done.rejected) == ("done", 4, 3, 1, 0)
    assert ImportJob.objects.get(pk=job.pk).pending_from is None
    assert [r.status for r in ImportRow.objects.filter(job=job).order_by("row_number")] == [
        "created", "already_present", "created", "created"]


def test_all_or_nothing_doses(world):
    for seq in (1, 3):
        make_person(world, seq=seq, name="张三")
    bad = csv_bytes(DOSE_HEADER, [dose_row(1), dose_row(3, lot="B2020999")])
    job = run(world, bad, mode="all")
    assert outcomes(job) == {2: ("rejected", "", "import_batch_refused"), 3: ("rejected", "lot_number", "lot_expired")}
    assert not DoseRecord.objects.exists()
    job = run(world, csv_bytes(DOSE_HEADER, [dose_row(1), dose_row(3)]), mode="all")
    assert (job.created, DoseRecord.objects.count()) == (2, 2)


def test_cli_progress_bar_shows_rate_and_eta(world, tmp_path, capsys):
    from django.core.management import call_command

    make_person(world, seq=1, name="张三")
    path = tmp_path / "d.csv"
    path.write_bytes(csv_bytes(DOSE_HEADER, [dose_row(1)]))
    call_command("import", "doses", str(path), "--user", "county_command", "--reason", REASON, "--language", "en")
    captured = capsys.readouterr()
    assert "1/1 100%" in captured.err and "rows/s ETA" in captured.err
    assert "1 created" in captured.out
