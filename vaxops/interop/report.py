"""The row report of a job and the file templates, as CSV (UTF-8 with BOM, which spreadsheets
open as UTF-8) or xlsx. Every cell a spreadsheet could run as a formula is written as text."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from vaxops.core.errors import ERRORS, VaxopsError
from vaxops.interop.kinds import ImportKind, get_kind
from vaxops.interop.models import ImportJob, ImportRow, RowStatus
from vaxops.interop.reading import read_table, spreadsheet_safe
from vaxops.interop.services import imports_dir


def row_message(code: str, params: dict[str, Any]) -> str:
    """A row's rejection in the active language (the reason texts of the registry included)."""
    if not code or code not in ERRORS:
        return ""
    params = dict(params)
    if code in ("invalid_id_number", "invalid_name") and params.get("reason"):
        from vaxops.registry.services import ID_REASON_MESSAGES, NAME_REASON_MESSAGES

        texts = ID_REASON_MESSAGES if code == "invalid_id_number" else NAME_REASON_MESSAGES
        template = texts.get(params["reason"])
        if template is not None:
            with contextlib.suppress(KeyError, IndexError, ValueError):
                params["reason_message"] = str(template).format(**params)
    return VaxopsError(code, params).message


def status_label(status: str) -> str:
    return str(RowStatus(status).label) if status in RowStatus.values else status


def report_rows(job: ImportJob, *, only_rejected: bool = False) -> Iterator[list[Any]]:
    """The header, then one line per row: row number, status, column, code, message, and the
    row's cells as read (rows not yet processed have an empty status)."""
    try:
        data = Path(job.file_path).read_bytes()
    except OSError:
        raise VaxopsError("import_file_missing", {"job": job.pk}) from None
    table = read_table(data, file_name=job.file_name, encoding=job.encoding.replace("-sig", "") or "auto",
                       format_=job.format, max_bytes=max(len(data), 1))
    results = {r.row_number: r for r in ImportRow.objects.filter(job=job)}
    yield [_("Row"), _("Status"), _("Column"), _("Code"), _("Message"), *table.header]
    for row_number, cells in table.rows:
        r = results.get(row_number)
        if only_rejected and (r is None or r.status != RowStatus.REJECTED):
            continue
        if r is None:
            yield [row_number, "", "", "", "", *cells]
        else:
            yield [row_number, status_label(r.status), r.column, r.code, row_message(r.code, r.params), *cells]


def as_csv(rows: Iterator[list[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for row in rows:
        writer.writerow([spreadsheet_safe(c) for c in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def as_xlsx(rows: Iterator[list[Any]], title: str) -> bytes:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31] or "report")
    for row in rows:
        # Text cells as strings (never a formula: openpyxl would write "=..." as one).
        sheet.append([spreadsheet_safe(c) for c in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def write_report_file(job: ImportJob) -> Path:
    """The report as a CSV file under VAR_DIR/imports/reports (the path ``--json`` prints)."""
    folder = imports_dir() / "reports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"import-{job.pk}-report.csv"
    path.write_bytes(as_csv(report_rows(job)))
    return path


def template_rows(kind: ImportKind, language: str) -> Iterator[list[str]]:
    yield [c.label_zh if language.startswith("zh") else c.key for c in kind.columns]


def template_file(kind_name: str, language: str, fmt: str) -> tuple[bytes, str]:
    kind = get_kind(kind_name)
    rows = template_rows(kind, language)
    name = f"vaxops-{kind.name}-{'zh' if language.startswith('zh') else 'en'}"
    if fmt == "xlsx":
        return as_xlsx(rows, kind.name), f"{name}.xlsx"
    return as_csv(rows), f"{name}.csv"
