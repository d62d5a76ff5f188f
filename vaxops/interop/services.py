"""Writes of the import machinery: creating a job from a file, claiming and finishing it.

Rows are written by the kinds through their apps' batch services (``kinds``); this module
writes only ``ImportJob``/``ImportRow`` bookkeeping, each change in one durable transaction,
creation and completion audited.
"""

from __future__ import annotations

import hashlib
import os
import socket
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vaxops.access.scope import PERMISSIONS, get_scoped, grants_for, require, restrict
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.interop.kinds import get_kind, map_header
from vaxops.interop.models import ImportJob, JobState, Mode
from vaxops.interop.reading import ENCODINGS, FORMATS, Table, read_table
from vaxops.regions.models import Division

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_CHUNK = 500
# This process, told apart from an earlier one with the same pid.
BOOT = uuid.uuid4().hex[:12]
HOST = socket.gethostname()[:40]
RUNNING_HERE: set[int] = set()  # jobs a thread of this process is running


def max_bytes() -> int:
    return int(getattr(settings, "VAXOPS_IMPORT_MAX_BYTES", DEFAULT_MAX_BYTES))


def default_chunk() -> int:
    return int(getattr(settings, "VAXOPS_IMPORT_CHUNK_ROWS", DEFAULT_CHUNK))


def imports_dir() -> Path:
    path = Path(settings.VAR_DIR) / "imports"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _store(data: bytes, digest: str, fmt: str) -> Path:
    """The file kept under VAR_DIR/imports by its SHA-256 (written once, atomically)."""
    path = imports_dir() / f"{digest}.{fmt}"
    if not path.exists():
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return path


def _importer_division(user: Any) -> Division | None:
    """Where the importer's area is (their first division grant allowed to import); ``None`` for
    an everywhere grant, which only users reaching everything see."""
    allowed = PERMISSIONS["import.run"]
    for g in grants_for(user):
        if g.role in allowed and g.division_path:
            return Division.objects.filter(path=g.division_path).first()
    return None


def check_file(kind_name: str, data: bytes, *, file_name: str = "", encoding: str = "auto",
               format_: str = "auto") -> Table:
    """The file's table if its shape is right for the kind; otherwise the file's error."""
    kind = get_kind(kind_name)
    if encoding not in ENCODINGS:
        raise VaxopsError("import_bad_encoding", {"encoding": encoding[:20]})
    if format_ not in FORMATS:
        raise VaxopsError("import_bad_format", {"format": format_[:10]})
    table = read_table(data, file_name=file_name, encoding=encoding, format_=format_, max_bytes=max_bytes())
    map_header(kind, table.header)
    return table


def create_job(
    kind_name: str,
    data: bytes,
    *,
    file_name: str,
    acting_user: Any,
    source: str,
    mode: str = Mode.ROWS,
    reason: str = "",
    encoding: str = "auto",
    format_: str = "auto",
    chunk_size: int | None = None,
) -> ImportJob:
    """A queued job for a file whose shape is right; a bad file writes nothing."""
    require(acting_user, "import.run")
    kind = get_kind(kind_name)
    reason = (reason or "").strip()
    if kind.needs_reason and not reason:
        raise VaxopsError("import_reason_required")
    if len(reason) > 200:
        raise VaxopsError("invalid_request", {"field": "reason", "max_length": 200})
    if mode not in Mode.values:
        raise VaxopsError("invalid_request", {"field": "mode", "allowed": list(Mode.values)})
    if mode == Mode.ALL and not kind.supports_all():
        raise VaxopsError("import_mode_unavailable", {"mode": mode})
    table = check_file(kind_name, data, file_name=file_name, encoding=encoding, format_=format_)
    digest = hashlib.sha256(data).hexdigest()
    path = _store(data, digest, table.format)
    with transaction.atomic(durable=True):
        job = ImportJob.objects.create(
            kind=kind.name, mode=mode, user=acting_user, division=_importer_division(acting_user),
            reason=reason, file_name=Path(file_name).name[:200] or "upload", file_path=str(path),
            sha256=digest, size=len(data), format=table.format, encoding=table.encoding, source=source,
            chunk_size=max(1, chunk_size or default_chunk()), rows=len(table.rows), created_at=timezone.now(),
        )
        audit("import.create", job, actor=acting_user, source=source, county_code=job.division.county_code
              if job.division_id else "", after={"kind": job.kind, "file": job.file_name, "sha256": digest,
                                                 "rows": job.rows, "mode": mode, "reason": reason})
    return job


def worker_token() -> str:
    return f"{os.getpid()}:{BOOT}@{HOST}"[:80]


def worker_alive(job: ImportJob) -> bool:
    """Whether the process running ``job`` is still alive: a thread of this process, or another
    process on this machine (e.g. a ``vaxops import`` command), by its pid. A worker on another
    machine cannot be asked: it counts as alive until its last chunk is older than
    ``VAXOPS_IMPORT_STALE_SECONDS`` (default 900)."""
    token, _, host = job.worker.partition("@")
    pid_text, _, boot = token.partition(":")
    if host and host != HOST:
        stale = float(getattr(settings, "VAXOPS_IMPORT_STALE_SECONDS", 900))
        beat = job.heartbeat_at or job.started_at or job.created_at
        return (timezone.now() - beat).total_seconds() < stale
    if boot == BOOT and pid_text == str(os.getpid()):
        return job.pk in RUNNING_HERE
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


def mark_interrupted(jobs: list[ImportJob]) -> None:
    """Running jobs whose process died are ``interrupted`` (they can be resumed)."""
    for job in jobs:
        if job.state == JobState.RUNNING and not worker_alive(job):
            with transaction.atomic(durable=True):
                if ImportJob.objects.filter(pk=job.pk, state=JobState.RUNNING, worker=job.worker).update(
                        state=JobState.INTERRUPTED):
                    job.state = JobState.INTERRUPTED


def claim(job_id: int) -> ImportJob:
    """Take a queued or interrupted job for this process, or ``import_job_not_resumable``."""
    job = ImportJob.objects.filter(pk=job_id).first()
    if job is None:
        raise VaxopsError("import_job_not_found", {"job": job_id})
    mark_interrupted([job])
    now = timezone.now()
    with transaction.atomic(durable=True):
        taken = ImportJob.objects.filter(pk=job_id, state__in=[JobState.QUEUED, JobState.INTERRUPTED]).update(
            state=JobState.RUNNING, worker=worker_token(), heartbeat_at=now)
        if taken:
            # Before the commit: no other thread of this process may see the job running here
            # without its worker being alive (it would take it for interrupted).
            RUNNING_HERE.add(job_id)
        else:
            raise VaxopsError("import_job_not_resumable", {"job": job_id, "state": job.state})
        ImportJob.objects.filter(pk=job_id, started_at__isnull=True).update(started_at=now)
    return ImportJob.objects.select_related("user").get(pk=job_id)


def visible_jobs(user: Any):
    """The import jobs of the user's area (``access.scope``), newest first."""
    return restrict(ImportJob.objects.all(), user, "import.run").select_related("user").order_by("-created_at", "-pk")


def scoped_job(user: Any, job_id: int) -> ImportJob:
    job = get_scoped(ImportJob.objects.select_related("user"), user, "import.run", not_found="import_job_not_found",
                     detail={"job": job_id}, pk=job_id)
    mark_interrupted([job])
    return job
