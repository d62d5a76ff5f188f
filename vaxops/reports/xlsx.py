"""The report as an xlsx workbook (openpyxl): a front sheet with the title, the cut-off and the
report sentence, then one sheet per section, each with its title and cut-off above a frozen
header row; figures are numbers (coverage as a percentage format over the ratio), never text."""

from __future__ import annotations

import io
import re
from typing import Any

from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The header row of a section's sheet (rows above it: title, cut-off, blank); frozen below it.
HEADER_ROW = 4
# Columns (0-based) of the report's own sections that hold ratios, shown as percentages.
PERCENT_COLUMNS = {"coverage": {5, 8}, "age_bands": {5}}
_BAD_SHEET_CHARS = re.compile(r"[\[\]:*?/\\]")
_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDE7F0")


def _sheet_title(title: str, taken: set[str]) -> str:
    base = _BAD_SHEET_CHARS.sub(" ", title).strip()[:28] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        name, n = f"{base[:26]} {n}", n + 1
    taken.add(name.lower())
    return name


def _cell(value: Any) -> Any:
    """Numbers stay numbers; anything else a cell cannot hold becomes its text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _heading(ws, doc: dict[str, Any], title: str) -> None:
    ws["A1"] = title
    ws["A1"].font = _TITLE
    ws["A2"] = _("%(division)s · cut-off %(cutoff)s (Asia/Shanghai) · %(status)s") % {
        "division": doc["division_name"], "cutoff": doc["cutoff_text"], "status": status_text(doc)}


def status_text(doc: dict[str, Any]) -> str:
    if doc.get("status") == "issued":
        return _("issued, SHA-256 %(hash)s") % {"hash": (doc.get("sha256") or "")[:16]}
    return _("draft (not issued)")


def workbook(doc: dict[str, Any]) -> bytes:
    """The xlsx bytes of a report document (``reports.daily.build_document`` or an issued one)."""
    wb = Workbook()
    front = wb.active
    taken: set[str] = set()
    front.title = _sheet_title(_("Daily report"), taken)
    _heading(front, doc, doc["title"])
    front["A4"] = doc["sentence"]
    front["A4"].alignment = Alignment(wrap_text=True, vertical="top")
    front.merge_cells("A4:D4")
    front.row_dimensions[4].height = 60
    if doc.get("sha256"):
        front["A5"] = _("SHA-256 of the issued report")
        front["B5"] = doc["sha256"]
    for col, width in zip("ABCD", (34, 18, 18, 18), strict=True):
        front.column_dimensions[col].width = width
    for section in doc["sections"]:
        ws = wb.create_sheet(_sheet_title(section["title"], taken))
        _heading(ws, doc, section["title"])
        for c, header in enumerate(section["columns"], start=1):
            cell = ws.cell(row=HEADER_ROW, column=c, value=header)
            cell.font, cell.fill = _BOLD, _HEAD_FILL
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            ws.column_dimensions[get_column_letter(c)].width = 30 if c == 1 else 16
        percent = PERCENT_COLUMNS.get(section["key"], set())
        for r, row in enumerate(section["rows"], start=HEADER_ROW + 1):
            for c, value in enumerate(row, start=1):
                cell = ws.cell(row=r, column=c, value=_cell(value))
                if c - 1 in percent and isinstance(value, int | float):
                    cell.number_format = "0.0%"
                elif isinstance(value, int):
                    cell.number_format = "#,##0"
        if not section["rows"]:
            ws.cell(row=HEADER_ROW + 1, column=1, value=_("Nothing to report."))
        if section.get("sentence"):
            ws.cell(row=HEADER_ROW + 2 + max(len(section["rows"]), 1), column=1, value=section["sentence"])
        ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=2)
    wb.properties.title = doc["title"]
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def filename(doc: dict[str, Any]) -> str:
    """daily-report-513300-2021-06-01-1900.xlsx"""
    hhmm = doc["cutoff"][11:16].replace(":", "")
    return f"daily-report-{doc['division_code']}-{doc['date']}-{hhmm}.xlsx"
