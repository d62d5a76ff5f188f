"""``vaxops import people|doses FILE --user USERNAME [--reason TEXT] [--mode rows|all] [--json]``,
``vaxops import jobs [--json]`` and ``vaxops import resume JOB [--json]`` (docs/imports.md)."""

from __future__ import annotations

import json
import sys
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from vaxops.access.scope import require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.interop.models import ImportJob
from vaxops.interop.report import write_report_file
from vaxops.interop.runner import job_summary, run_job
from vaxops.interop.services import create_job, mark_interrupted


class ProgressBar:
    """``[#####.....] 120/400 30% 45.2 rows/s ETA 6s`` on stderr, redrawn at most 5 times a second."""

    def __init__(self, stream, enabled: bool):
        self.stream, self.enabled = stream, enabled
        self.start = time.monotonic()
        self.first_done: int | None = None
        self.last = 0.0

    def __call__(self, job: ImportJob) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.first_done is None:
            self.first_done, self.start = job.rows_done, now
        final = job.rows_done >= job.rows
        if not final and now - self.last < 0.2:
            return
        self.last = now
        rows = max(job.rows, 1)
        width = 30
        filled = int(width * job.rows_done / rows)
        rate = (job.rows_done - self.first_done) / max(now - self.start, 1e-6)
        eta = (job.rows - job.rows_done) / rate if rate > 0 else 0
        line = (f"[{'#' * filled}{'.' * (width - filled)}] {job.rows_done}/{job.rows} "
                f"{100 * job.rows_done // rows}% {rate:.1f} rows/s ETA {eta:.0f}s")
        tty = getattr(self.stream, "isatty", lambda: False)()
        self.stream.write(("\r" + line) if tty else line + "\n")
        if final and tty:
            self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import people or doses from a CSV or xlsx file; list and resume import jobs."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        for kind in ("people", "doses"):
            p = sub.add_parser(kind, help=f"import {kind} from FILE")
            p.add_argument("file")
            p.add_argument("--user", required=True, help="the importer (their rights and area apply)")
            p.add_argument("--reason", default="", help="why (required for doses: the retrospective reason)")
            p.add_argument("--mode", choices=["rows", "all"], default="rows")
            p.add_argument("--encoding", choices=["auto", "utf-8", "gb18030"], default="auto")
            p.add_argument("--format", dest="format_", choices=["auto", "csv", "xlsx"], default="auto")
            p.add_argument("--chunk-size", type=int, default=None)
            self._common(p)
        p = sub.add_parser("jobs", help="list import jobs")
        p.add_argument("--json", action="store_true")
        p.add_argument("--user", default=None,
                       help="list only the jobs this user may see (their area, as on the imports page)")
        p = sub.add_parser("resume", help="continue an interrupted job")
        p.add_argument("job", type=int)
        self._common(p)

    @staticmethod
    def _common(p) -> None:
        p.add_argument("--json", action="store_true", help="print one JSON object")
        p.add_argument("--no-progress", action="store_true")
        p.add_argument("--language", default=None, help="language of messages (zh-hans or en)")

    def handle(self, *args: Any, **opts: Any) -> None:
        language = opts.get("language")
        with translation.override(language) if language else nullcontext():
            try:
                self._handle(opts)
            except VaxopsError as exc:
                if opts.get("json"):
                    self.stdout.write(json.dumps({"error": exc.as_dict()}, ensure_ascii=False, default=str))
                raise CommandError(f"{exc.code}: {exc.message}", returncode=1) from None

    def _handle(self, opts: dict[str, Any]) -> None:
        action = opts["action"]
        if action == "jobs":
            return self._jobs(opts)
        progress = ProgressBar(self.stderr._out if hasattr(self.stderr, "_out") else sys.stderr,
                               not opts.get("no_progress"))
        if action == "resume":
            job = run_job(opts["job"], progress=progress)
        else:
            user = get_user_model().objects.filter(username=opts["user"], is_active=True).first()
            if user is None:
                raise VaxopsError("user_not_found", {"username": opts["user"]})
            path = Path(opts["file"])
            try:
                data = path.read_bytes()
            except OSError:
                raise CommandError(f"cannot read {path}", returncode=2) from None
            job = create_job(action, data, file_name=path.name, acting_user=user, source=Source.CLI,
                             mode=opts["mode"], reason=opts["reason"], encoding=opts["encoding"],
                             format_=opts["format_"], chunk_size=opts["chunk_size"])
            job = run_job(job.pk, progress=progress)
        if job.error_code:
            raise VaxopsError(job.error_code, job.error_detail)
        report = str(write_report_file(job))
        summary = job_summary(job, report)
        if opts.get("json"):
            self.stdout.write(json.dumps(summary, ensure_ascii=False))
        else:
            self.stdout.write(
                f"job {job.pk}: {job.rows} rows, {job.created} created, {job.already_present} already present, "
                f"{job.updated} updated, {job.rejected} rejected; report {report}")

    def _jobs(self, opts: dict[str, Any]) -> None:
        jobs = ImportJob.objects.order_by("-created_at", "-pk")
        if opts.get("user"):  # as that user sees them; without --user, the operator at the server sees all
            user = get_user_model().objects.filter(username=opts["user"], is_active=True).first()
            if user is None:
                raise VaxopsError("user_not_found", {"username": opts["user"]})
            require(user, "import.run")
            jobs = restrict(jobs, user, "import.run")
        jobs = list(jobs[:200])
        mark_interrupted(jobs)
        rows = [{"job": j.pk, "kind": j.kind, "state": j.state, "rows_done": j.rows_done, "rows": j.rows}
                for j in jobs]
        if opts.get("json"):
            self.stdout.write(json.dumps(rows))
            return
        for r in rows:
            self.stdout.write(f"{r['job']:>6} {r['kind']:<8} {r['state']:<12} {r['rows_done']}/{r['rows']}")

