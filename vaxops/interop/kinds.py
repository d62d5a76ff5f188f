"""The registry of import kinds: each names its columns, turns a row into a batch item, and
writes a chunk of items through its app's batch service.

A kind knows nothing of jobs, files, chunks or resume (``runner``); adding a kind (households,
key-group membership) is one ``ImportKind`` registered here with its columns, a ``parse``
function (row → ``Prepared`` or ``RowResult``) and a ``write`` function (``Prepared`` list →
one ``RowResult`` each). See docs/imports.md "Adding a kind".
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.functional import Promise

from vaxops.core.errors import VaxopsError


@dataclass(frozen=True)
class Column:
    key: str  # the English header (the CLI contract)
    label_zh: str  # the Chinese header of the template (accepted as a header too)
    required: bool
    help: Promise | str
    example: str = ""


@dataclass
class RowResult:
    """The outcome of one row: ``status`` in ``RowStatus``; a rejection has ``code`` (an
    ``ERRORS`` code), the ``column`` it concerns and the message ``params``."""

    row_number: int
    status: str
    column: str = ""
    code: str = ""
    params: dict[str, Any] = field(default_factory=dict)
    object_id: int | None = None


@dataclass
class Prepared:
    """A row that parsed: its batch ``item`` and the ``key`` that finds a duplicate row."""

    row_number: int
    item: Any
    key: tuple
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportKind:
    name: str
    title: Promise | str
    columns: tuple[Column, ...]
    parse: Callable[[int, dict[str, str]], Prepared | RowResult]
    # write(prepared, *, job, atomic) -> one RowResult per prepared item, same order
    write: Callable[..., list[RowResult]]
    # For a redone chunk (runner._as_first_attempt): which of these objects this job's
    # importer created since ``since`` -> ids; and the audit actions meaning "updated".
    created_since: Callable[[set[int], Any, Any], set[int]]
    updated_actions: frozenset[str]
    object_type: str
    needs_reason: bool = False
    # Whether "all" mode can run now (the batch service supports ``atomic``).
    supports_all: Callable[[], bool] = lambda: True
    # Columns allowed but not in the template's required set, documented per kind.
    notes: Sequence[Promise | str] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)


KINDS: dict[str, ImportKind] = {}


def register(kind: ImportKind) -> ImportKind:
    KINDS[kind.name] = kind
    return kind


def get_kind(name: str) -> ImportKind:
    _load()
    try:
        return KINDS[name]
    except KeyError:
        raise VaxopsError("import_unknown_kind", {"kind": name[:32], "allowed": sorted(KINDS)}) from None


def all_kinds() -> dict[str, ImportKind]:
    _load()
    return KINDS


def _load() -> None:
    from vaxops.interop import doses, people  # noqa: F401  (they register themselves)


def map_header(kind: ImportKind, header: list[str]) -> list[str]:
    """The column key of each header cell, or ``import_unknown_column`` /
    ``import_duplicate_column`` / ``import_missing_column``: nothing in a file is ignored."""
    by_name: dict[str, str] = {}
    for c in kind.columns:
        by_name[c.key.lower()] = c.key
        by_name[c.label_zh] = c.key
    keys: list[str] = []
    for position, cell in enumerate(header, start=1):
        key = by_name.get(cell.strip().lower()) or by_name.get(cell.strip())
        if key is None:
            raise VaxopsError("import_unknown_column", {
                "column": cell[:40] or f"#{position}", "position": position,
                "allowed": [c.key for c in kind.columns],
            })
        if key in keys:
            raise VaxopsError("import_duplicate_column", {"column": cell[:40], "position": position})
        keys.append(key)
    for c in kind.columns:
        if c.required and c.key not in keys:
            raise VaxopsError("import_missing_column", {"column": c.key, "label_zh": c.label_zh})
    return keys


def rejected(row_number: int, at_column: str, code: str, **params: Any) -> RowResult:
    return RowResult(row_number, "rejected", column=at_column, code=code, params=params)


def from_error(row_number: int, exc: VaxopsError, columns: dict[str, str]) -> RowResult:
    """A batch service's rejection as a row result, placed in the column it concerns."""
    return RowResult(row_number, "rejected", column=columns.get(exc.code, ""), code=exc.code,
                     params=_jsonable(exc.detail))


def _jsonable(detail: dict[str, Any]) -> dict[str, Any]:
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    return json.loads(json.dumps(detail, cls=DjangoJSONEncoder, default=str))


def probe(call: Callable[[], Any]) -> bool:
    """Whether a batch service accepts an option (the interim ones raise NotImplementedError)."""
    try:
        call()
    except NotImplementedError:
        return False
    except Exception:  # the option exists; the probe's empty call was merely refused
        return True
    return True
