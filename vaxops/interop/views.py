"""The import pages under /imports/: templates, upload, a job's progress and its row report.

Reads go through ``access.scope`` (``import.run``); writes through ``interop.services`` and the
job runner, which runs the job in a background thread of the web process. A job whose process
died (a restart) shows as interrupted with a resume button.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vaxops.access.scope import can
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.interop.forms import UploadForm
from vaxops.interop.kinds import all_kinds
from vaxops.interop.models import ImportRow, JobState, RowStatus
from vaxops.interop.report import as_csv, as_xlsx, report_rows, row_message, template_file
from vaxops.interop.runner import run_in_thread
from vaxops.interop.services import create_job, mark_interrupted, max_bytes, scoped_job, visible_jobs

FIELD_OF = {"import_reason_required": "reason", "import_bad_encoding": "encoding", "import_mode_unavailable": "mode"}
ROWS_PER_PAGE = 100


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/forbidden.html", {"forbidden_page": "imports"}, status=403)


def _error(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def imports(request: HttpRequest) -> HttpResponse:
    if not can(request.user, "import.run"):
        return _forbidden(request)
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            upload = data["file"]
            content = upload.read(max_bytes() + 1)
            try:
                job = create_job(data["kind"], content, file_name=upload.name, acting_user=request.user,
                                 source=Source.WEB, mode=data["mode"], reason=data["reason"],
                                 encoding=data["encoding"])
            except VaxopsError as exc:
                form.add_error(FIELD_OF.get(exc.code, "file"), exc.message)
                form.error_codes = [exc.code]
            else:
                run_in_thread(job.pk)
                return redirect("interop:job", job.pk)
        status = 422
    jobs = list(visible_jobs(request.user)[:50])
    mark_interrupted(jobs)
    return render(request, "interop/imports.html", {
        "form": form, "jobs": jobs, "kinds": list(all_kinds().values()), "limit_mb": max_bytes() / 1024 / 1024,
        "error_codes": getattr(form, "error_codes", []),
    }, status=status)


def _job_context(request: HttpRequest, job) -> dict:
    rejected = ImportRow.objects.filter(job=job, status=RowStatus.REJECTED).order_by("row_number")
    page = Paginator(rejected, ROWS_PER_PAGE).get_page(request.GET.get("page"))
    kind = all_kinds().get(job.kind)
    labels = {c.key: c.label_zh for c in kind.columns} if kind and (get_language() or "").startswith("zh") else {}
    for r in page:
        r.message = row_message(r.code, r.params)
        r.column_label = labels.get(r.column, r.column)
    return {"job": job, "page": page, "finished": job.state in (JobState.DONE, JobState.FAILED),
            "job_error": VaxopsError(job.error_code, job.error_detail) if job.error_code else None}


@login_required
@never_cache
@require_GET
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    if not can(request.user, "import.run"):
        return _forbidden(request)
    try:
        job = scoped_job(request.user, job_id)
    except VaxopsError as exc:
        return _error(request, exc)
    return render(request, "interop/job.html", _job_context(request, job))


@login_required
@never_cache
@require_GET
def job_progress(request: HttpRequest, job_id: int) -> HttpResponse:
    """The progress panel alone (polled by HTMX while the job runs)."""
    try:
        job = scoped_job(request.user, job_id)
    except VaxopsError as exc:
        return _error(request, exc)
    return render(request, "interop/_progress.html", _job_context(request, job))


@login_required
@require_POST
def job_resume(request: HttpRequest, job_id: int) -> HttpResponse:
    try:
        job = scoped_job(request.user, job_id)
        run_in_thread(job.pk)
    except VaxopsError as exc:
        return _error(request, exc)
    return redirect("interop:job", job.pk)


@login_required
@require_GET
def job_report(request: HttpRequest, job_id: int, fmt: str) -> HttpResponse:
    try:
        job = scoped_job(request.user, job_id)
    except VaxopsError as exc:
        return _error(request, exc)
    rows = report_rows(job, only_rejected=request.GET.get("rejected") == "1")
    name = f"import-{job.pk}-report"
    try:
        if fmt == "xlsx":
            response = HttpResponse(
                as_xlsx(rows, "report"),
                content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        else:
            response = HttpResponse(as_csv(rows), content_type="text/csv; charset=utf-8")
    except VaxopsError as exc:  # the stored file is gone
        return _error(request, exc)
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@login_required
@require_GET
def template_download(request: HttpRequest, kind: str, fmt: str) -> HttpResponse:
    if not can(request.user, "import.run"):
        return _forbidden(request)
    language = request.GET.get("lang") or get_language() or "zh-hans"
    try:
        data, name = template_file(kind, language, fmt)
    except VaxopsError as exc:
        return _error(request, exc)
    content_type = ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" if fmt == "xlsx"
                    else "text/csv; charset=utf-8")
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response

