"""Reading an import file: bytes → header and rows of text, or a ``VaxopsError``.

Pure and deterministic (no database): a job re-reads its stored file on every resume and must
see the same rows in the same order. CSV is UTF-8 (with or without BOM) or GB18030; xlsx is
read from its first sheet, every cell as text. See docs/imports.md "Files".
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import zipfile
from dataclasses import dataclass

from vaxops.core.errors import VaxopsError

ENCODINGS = ("auto", "utf-8", "gb18030")
FORMATS = ("auto", "csv", "xlsx")
XLSX_MAGIC = b"PK\x03\x04"
UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class Table:
    """The file as text: ``header`` cells and data ``rows`` as ``(row_number, cells)``."""

    format: str
    encoding: str
    header: list[str]
    rows: list[tuple[int, list[str]]]


def _looks_chinese(text: str) -> bool:
    """Whether every non-ASCII character is one a Chinese table plausibly holds (CJK ideographs,
    CJK and full-width punctuation, the middle dot of names): the test that lets ``auto`` accept
    a GB18030 file. Mojibake from another encoding decodes to rarer characters and fails it."""
    for ch in text:
        if ch.isascii():
            continue
        o = ord(ch)
        if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0x3000 <= o <= 0x303F or 0xFF00 <= o <= 0xFFEF:
            continue
        if ch in "·—‘’“”…":
            continue
        return False
    return True


def decode(data: bytes, declared: str = "auto") -> tuple[str, str]:
    """``(text, encoding used)``. ``auto``: UTF-8 with or without BOM; else GB18030 when the
    bytes decode strictly and read as Chinese text; anything else is ``import_bad_encoding``.
    A declared encoding is checked, not trusted: UTF-8 bytes declared GB18030 are refused."""
    if declared not in ENCODINGS:
        raise VaxopsError("import_bad_encoding", {"encoding": declared[:20]})
    if declared in ("auto", "utf-8"):
        try:
            if data.startswith(UTF8_BOM):
                return data[len(UTF8_BOM):].decode("utf-8"), "utf-8-sig"
            return data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            if declared == "utf-8":
                raise VaxopsError("import_bad_encoding", {"encoding": "utf-8"}) from None
    # GB18030, declared or guessed.
    if declared == "gb18030" and not data.isascii():
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise VaxopsError("import_bad_encoding", {"encoding": "gb18030"})
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        raise VaxopsError("import_bad_encoding", {"encoding": declared}) from None
    if declared == "auto" and not _looks_chinese(text):
        raise VaxopsError("import_bad_encoding", {"encoding": declared})
    return text, "gb18030"


def _clean(cell: object) -> str:
    """A cell as stored text: NFC, surrounding spaces removed; dates from xlsx in ISO form."""
    if cell is None:
        return ""
    if isinstance(cell, dt.datetime):
        text = cell.isoformat()
    elif isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))
    else:
        text = str(cell)
    return unicodedata.normalize("NFC", text).strip()


def _table(format_: str, encoding: str, raw_rows: list[tuple[int, list[object]]]) -> Table:
    rows = [(n, [_clean(c) for c in cells]) for n, cells in raw_rows]
    rows = [(n, cells) for n, cells in rows if any(cells)]  # wholly blank lines are not rows
    if not rows:
        raise VaxopsError("import_empty_file")
    (_, header), data = rows[0], rows[1:]
    while header and not header[-1]:
        header.pop()
    return Table(format_, encoding, header, data)


def _read_csv(data: bytes, encoding: str) -> Table:
    text, used = decode(data, encoding)
    if "\x00" in text:
        raise VaxopsError("import_bad_encoding", {"encoding": encoding})
    reader = csv.reader(io.StringIO(text, newline=""))
    raw: list[tuple[int, list[object]]] = []
    try:
        for cells in reader:
            raw.append((reader.line_num, list(cells)))
    except csv.Error:
        raise VaxopsError("import_bad_format", {"format": "csv"}) from None
    # Row numbers count records, as a spreadsheet shows them (a quoted line break stays one row).
    return _table("csv", used, [(i + 1, cells) for i, (_, cells) in enumerate(raw)])


def _read_xlsx(data: bytes) -> Table:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
        sheet = book.worksheets[0]
        raw = [(i + 1, list(cells)) for i, cells in enumerate(sheet.iter_rows(values_only=True))]
        book.close()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError):
        raise VaxopsError("import_bad_format", {"format": "xlsx"}) from None
    return _table("xlsx", "", raw)


def read_table(data: bytes, *, file_name: str = "", encoding: str = "auto", format_: str = "auto",
               max_bytes: int) -> Table:
    """The file's header and rows; refuses an empty or oversize file, an undecodable one."""
    if not data:
        raise VaxopsError("import_empty_file")
    if len(data) > max_bytes:
        raise VaxopsError("import_too_large", {"limit_bytes": max_bytes, "size_bytes": len(data)})
    if format_ not in FORMATS:
        raise VaxopsError("import_bad_format", {"format": format_[:10]})
    if format_ == "auto":
        is_xlsx = data.startswith(XLSX_MAGIC) or file_name.lower().endswith(".xlsx")
        format_ = "xlsx" if is_xlsx else "csv"
    return _read_xlsx(data) if format_ == "xlsx" else _read_csv(data, encoding)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    """A cell value for a report or export: text that a spreadsheet would run as a formula
    (``=HYPERLINK(…)``, ``+``, ``-``, ``@``) gets a leading apostrophe so it stays text.
    Numbers written as numbers (e.g. ``-1``) are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
