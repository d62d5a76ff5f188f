"""The daily report's API: ``GET /api/v1/reports/daily`` (JSON, or ``format=xlsx``) and
``POST /api/v1/reports/daily/issue``."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema, Status

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.regions.models import Division
from vaxops.registry.api import ErrorOut
from vaxops.reports import services
from vaxops.reports.daily import daily_report, issued_document
from vaxops.reports.xlsx import XLSX_TYPE, filename, workbook

router = Router(tags=["reports"])


class SectionOut(Schema):
    key: str
    title: str
    columns: list[str]
    rows: list[list[Any]] = Field(description="The table: numbers as numbers, null for no figure.")
    figures: dict[str, Any] = Field(description="The section's machine-readable figures.")
    sentence: str = ""


class ReportOut(Schema):
    division_code: str
    division_name: str
    date: dt.date
    cutoff: dt.datetime
    cutoff_text: str
    title: str
    sentence: str = Field(description="The report sentence as the health commission writes it.")
    status: Literal["draft", "issued"] = Field(
        description="issued: frozen with its figures and hash; draft: computed at the time of the request.")
    issued_at: dt.datetime | None = None
    issued_by: str | None = None
    sha256: str | None = Field(None, description="SHA-256 of the issued report's canonical JSON (all languages).")
    figures: dict[str, Any] = Field(
        description="cumulative: equal to GET /stats/summary?at=<cutoff> (as administered); today: since 00:00.")
    sections: list[SectionOut]


class DailyQuery(Schema):
    division: str | None = Field(None, max_length=16)
    date: dt.date
    cutoff: str | None = Field(None, max_length=8, description="HH:MM, default 19:00 (24:00: the end of the day).")
    format: Literal["json", "xlsx"] = "json"


class IssueIn(Schema):
    division: str = Field(max_length=16)
    date: dt.date
    cutoff: str | None = Field(None, max_length=8)


def report_division(user: Any, code: str | None, action: str = "report.view") -> Division:
    """The division asked for (or the user's own top division) within the user's area."""
    require(user, action)
    if not code:
        top = restrict(Division.objects.order_by("level", "code"), user, action).first()
        if top is None:
            raise VaxopsError("division_not_found", {"division_code": None})
        return top
    return get_scoped(Division.objects.all(), user, action, not_found="division_not_found",
                      detail={"division_code": code}, code=code)


def xlsx_response(doc: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(workbook(doc), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename(doc)}"'
    return response


@router.get("/daily", response={200: ReportOut, 404: ErrorOut, 422: ErrorOut})
def get_daily(request, q: Query[DailyQuery]):
    """A division's daily report for a date at a cut-off hour: the issued (frozen) report when that
    day's was issued at this cut-off, otherwise the figures now (draft). `format=xlsx`: the file."""
    division = report_division(request.user, q.division)
    doc = daily_report(division, q.date, q.cutoff, user=request.user)
    if q.format == "xlsx":
        return xlsx_response(doc)
    return doc


@router.post("/daily/issue", response={201: ReportOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut})
def issue(request, payload: IssueIn):
    """Issue (freeze) a division's daily report; once only per division and day."""
    report = services.issue_daily_report(division_code=payload.division, day=payload.date, cutoff=payload.cutoff,
                                         acting_user=request.user, source=Source.API)
    return Status(201, issued_document(report))
