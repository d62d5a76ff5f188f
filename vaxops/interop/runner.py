"""Running a job: the file re-read, every row parsed, chunks written, progress committed.

Exactly once across kills: a chunk's rows are written by the kind's batch service in its own
durable transaction, and the chunk's row outcomes and the job's progress are committed right
after in another. A process killed between the two leaves the chunk to be redone on resume;
the batch services are idempotent (people already present, dose submissions replayed by their
client UUID), and a redone chunk reports a row as the first attempt would have: a row whose
object this job's importer changed since the chunk was first attempted (its audit events) is
``created`` (or ``updated``), not ``already_present``. docs/imports.md "Resume".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.db import close_old_connections, connection, transaction
from django.utils import timezone

from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.interop.kinds import ImportKind, Prepared, RowResult, get_kind, map_header, rejected
from vaxops.interop.models import ImportJob, ImportRow, JobState, Mode, RowStatus
from vaxops.interop.reading import read_table
from vaxops.interop.services import RUNNING_HERE, claim

Progress = Callable[[ImportJob], None]


def parse_file(job: ImportJob, kind: ImportKind) -> list[Prepared | RowResult]:
    """Every row of the stored file as a prepared item or a rejection, duplicates marked."""
    try:
        data = Path(job.file_path).read_bytes()
    except OSError:
        raise VaxopsError("import_file_missing", {"job": job.pk}) from None
    table = read_table(data, file_name=job.file_name, encoding=job.encoding.replace("-sig", "") or "auto",
                       format_=job.format, max_bytes=max(len(data), 1))
    keys = map_header(kind, table.header)
    seen: dict[tuple, int] = {}
    parsed: list[Prepared | RowResult] = []
    for row_number, cells in table.rows:
        if len(cells) > len(keys) and any(cells[len(keys):]):
            parsed.append(rejected(row_number, "", "import_extra_cells", expected=len(keys), found=len(cells)))
            continue
        row = {key: (cells[i] if i < len(cells) else "") for i, key in enumerate(keys)}
        result = kind.parse(row_number, row)
        if isinstance(result, Prepared):
            first = seen.setdefault(result.key, row_number)
            if first != row_number:
                result = rejected(row_number, "", "import_duplicate_row", first_row=first)
        parsed.append(result)
    return parsed


def _as_first_attempt(job: ImportJob, kind: ImportKind, results: list[RowResult]) -> None:
    """In a redone chunk, rows the first attempt wrote come back as already present: report them
    as that attempt did. An object created since the chunk was first attempted (by this job's
    importer, for doses) was created by it: the first row naming it is ``created``; one the
    importer's audit events show changed since then (``person.update``) is ``updated``."""
    ids = {r.object_id for r in results if r.status == RowStatus.ALREADY_PRESENT and r.object_id}
    if not ids or job.pending_since is None:
        return
    created = kind.created_since(ids, job.pending_since, job)
    changed: set[int] = set()
    if kind.updated_actions:
        changed = {int(i) for i in AuditEvent.objects.filter(
            object_type=kind.object_type, object_id__in=[str(i) for i in ids], at__gte=job.pending_since,
            actor_id=job.user_id, action__in=kind.updated_actions,
        ).values_list("object_id", flat=True)}
    claimed: set[int] = set()
    for r in results:
        if r.status != RowStatus.ALREADY_PRESENT or r.object_id is None:
            continue
        if r.object_id in created and r.object_id not in claimed:
            r.status = RowStatus.CREATED
        elif r.object_id in changed:
            r.status = RowStatus.UPDATED
        claimed.add(r.object_id)


def _write(job: ImportJob, kind: ImportKind, chunk: list[Prepared | RowResult], *, atomic: bool,
           redo: bool) -> list[RowResult]:
    prepared = [p for p in chunk if isinstance(p, Prepared)]
    written = iter(kind.write(prepared, job=job, atomic=atomic) if prepared else [])
    results = [next(written) if isinstance(p, Prepared) else p for p in chunk]
    if redo:
        _as_first_attempt(job, kind, results)
    return results


def _commit(job: ImportJob, results: list[RowResult], done: int) -> None:
    counts = dict.fromkeys(RowStatus.values, 0)
    for r in results:
        counts[r.status] += 1
    with transaction.atomic(durable=True):
        ImportRow.objects.bulk_create([
            ImportRow(job=job, row_number=r.row_number, status=r.status, column=r.column, code=r.code,
                      params=r.params, object_id=r.object_id) for r in results
        ])
        job.rows_done = done
        job.created += counts[RowStatus.CREATED]
        job.already_present += counts[RowStatus.ALREADY_PRESENT]
        job.updated += counts[RowStatus.UPDATED]
        job.rejected += counts[RowStatus.REJECTED]
        job.pending_from = None
        job.heartbeat_at = timezone.now()
        job.save(update_fields=["rows_done", "created", "already_present", "updated", "rejected",
                                "pending_from", "heartbeat_at"])


def _begin_chunk(job: ImportJob, start: int) -> bool:
    """Mark the chunk at ``start`` as being written; whether it is a redo (a process died in it)."""
    redo = job.pending_from == start
    if not redo:
        job.pending_from, job.pending_since = start, timezone.now()
        with transaction.atomic(durable=True):
            job.save(update_fields=["pending_from", "pending_since"])
    return redo


def _all_or_nothing(job: ImportJob, kind: ImportKind, parsed: list[Prepared | RowResult]) -> list[RowResult]:
    """One atomic batch over the whole file; if any row is refused, no row is written and the
    good rows are reported as refused with the batch (``import_batch_refused``)."""
    redo = _begin_chunk(job, 0)
    if any(isinstance(p, RowResult) for p in parsed):
        results = [p if isinstance(p, RowResult) else None for p in parsed]
    else:
        results = _write(job, kind, parsed, atomic=True, redo=redo)
    if any(r is None or r.status == RowStatus.REJECTED for r in results):
        row_numbers = [p.row_number for p in parsed]
        results = [
            r if r is not None and r.status == RowStatus.REJECTED
            else rejected(n, "", "import_batch_refused") for r, n in zip(results, row_numbers, strict=True)
        ]
    return results


def run_job(job_id: int, *, progress: Progress | None = None, claimed: ImportJob | None = None) -> ImportJob:
    """Run (or resume) a job to its end in this thread; returns the finished job."""
    job = claimed or claim(job_id)
    RUNNING_HERE.add(job.pk)
    try:
        kind = get_kind(job.kind)
        try:
            parsed = parse_file(job, kind)
        except VaxopsError as exc:
            return _fail(job, exc)
        if progress:
            progress(job)
        if job.mode == Mode.ALL:
            if job.rows_done == 0 and parsed:
                _commit(job, _all_or_nothing(job, kind, parsed), len(parsed))
        else:
            while job.rows_done < len(parsed):
                start = job.rows_done
                chunk = parsed[start:start + job.chunk_size]
                redo = _begin_chunk(job, start)
                _commit(job, _write(job, kind, chunk, atomic=False, redo=redo), start + len(chunk))
                if progress:
                    progress(job)
        return _finish(job)
    finally:
        RUNNING_HERE.discard(job.pk)


def _finish(job: ImportJob) -> ImportJob:
    with transaction.atomic(durable=True):
        job.state, job.finished_at, job.rows = JobState.DONE, timezone.now(), max(job.rows, job.rows_done)
        job.save(update_fields=["state", "finished_at", "rows"])
        audit("import.finish", job, actor=job.user, source=job.source,
              county_code=job.division.county_code if job.division_id else "",
              after={"rows": job.rows, **job.totals()})
    return job


def _fail(job: ImportJob, exc: VaxopsError) -> ImportJob:
    with transaction.atomic(durable=True):
        job.state, job.finished_at = JobState.FAILED, timezone.now()
        job.error_code, job.error_detail = exc.code, exc.detail
        job.save(update_fields=["state", "finished_at", "error_code", "error_detail"])
        audit("import.fail", job, actor=job.user, source=job.source, after={"code": exc.code})
    return job


def run_in_thread(job_id: int) -> threading.Thread:
    """Run the job in a daemon thread of this process (the web's background job)."""
    job = claim(job_id)
    RUNNING_HERE.add(job.pk)

    def target() -> None:
        try:
            run_job(job_id, claimed=job)
        except Exception:  # the job stays running with a dead worker: it shows as interrupted
            import logging

            logging.getLogger(__name__).exception("import job %s stopped", job_id)
        finally:
            RUNNING_HERE.discard(job_id)
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=target, name=f"import-{job_id}", daemon=True)
    thread.start()
    return thread


def job_summary(job: ImportJob, report: str = "") -> dict[str, Any]:
    return {"job": job.pk, "rows": job.rows, **job.totals(), "report": report}
