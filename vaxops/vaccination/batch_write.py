"""Writing a decided batch of doses: rows, counters and the audit event (see batch.record_doses).

The rows are built straight from the decided values, adapted once per column for the engine:
PostgreSQL takes large batches by ``COPY … FROM STDIN`` with ids drawn from the sequence in one
statement, SQLite by ``executemany`` with ids assigned under the write lock its IMMEDIATE
transaction already holds; small batches (a single dose too) take one multi-row ``INSERT …
RETURNING id`` on both. A batch of one keeps a single dose's statements (the row, the two counter
upserts, the ``dose.record`` event).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from vaxops.campaign.services import TZ, bump_counter, bump_counters, county_path, path_county
from vaxops.core.audit import audit, insert_row
from vaxops.core.models import AuditEvent
from vaxops.vaccination.models import DoseRecord

# At and above this many rows PostgreSQL is written with COPY (below it one multi-row INSERT):
# measured with bench/bench_ingest.py --postgres; COPY's fixed cost (the sequence read and the
# COPY round trips) is paid back from a few dozen rows on.
COPY_MIN = 64
# Rows per multi-row INSERT (29 parameters a row: below SQLite's 32,766 and PostgreSQL's 65,535).
_INSERT_ROWS = 500

_TABLE = DoseRecord._meta.db_table
_FIELDS = tuple(f for f in DoseRecord._meta.concrete_fields)
_COLUMNS = tuple(f.column for f in _FIELDS)
_NO_PK = tuple(c for c in _COLUMNS if c != "id")


def _utc_text(value: dt.datetime) -> str:
    """A datetime as Django stores it in SQLite (UTC, no offset, ``YYYY-MM-DD HH:MM:SS[.ffffff]``)."""
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(" ")


_NO_CODES = json.dumps([])


def _values(d: DoseRecord, created_at: dt.datetime, sqlite: bool, texts: dict | None = None) -> tuple:
    """The record's column values in ``_COLUMNS`` order, adapted for the engine. ``texts`` (SQLite)
    keeps the text of the times shared by a batch's records (recording and creation)."""
    v = d.__dict__
    codes = v["override_codes"]
    codes = json.dumps(codes) if codes else _NO_CODES
    if sqlite:
        if texts is None:
            texts = {}
        recorded, created = v["recorded_at"], created_at
        recorded_text = texts.get(recorded)
        if recorded_text is None:
            recorded_text = texts[recorded] = _utc_text(recorded)
        created_text = texts.get(created)
        if created_text is None:
            created_text = texts[created] = _utc_text(created)
        at, recorded, created, key = _utc_text(v["administered_at"]), recorded_text, created_text, v["client_uuid"].hex
    else:
        at, recorded, created, key = v["administered_at"], v["recorded_at"], created_at, v["client_uuid"]
    return (
        v["id"], v["person_id"], v["product_id"], v["lot_id"], v["series"], v["dose_number"], v["kind"],
        v["completes_series"], v["overdue"], v["site_id"], v["session_id"], v["division_id"], v["county_code"],
        v["vaccinator_id"], at, v["age_band"], v["priority_group"], key, v["fingerprint"], v["override_reason"],
        codes, v["residence_division_id"], recorded, v["retrospective"], v["retrospective_reason"], v["status"],
        v["void_reason"], None, None, created,
    )


def _check_columns() -> None:
    expected = (
        "id", "person_id", "product_id", "lot_id", "series", "dose_number", "kind", "completes_series", "overdue",
        "site_id", "session_id", "division_id", "county_code", "vaccinator_id", "administered_at", "age_band",
        "priority_group", "client_uuid", "fingerprint", "override_reason", "override_codes",
        "residence_division_id", "recorded_at", "retrospective", "retrospective_reason", "status", "void_reason",
        "voided_at", "voided_by_id", "created_at",
    )
    if expected != _COLUMNS:  # a new column must be added to _values (and here) before it ships
        raise RuntimeError(f"DoseRecord columns changed: {_COLUMNS}")


_check_columns()


def copy_rows(table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """``COPY table (columns) FROM STDIN`` of ``rows`` (text format), on PostgreSQL, in the
    current transaction; database errors surface as Django's (``IntegrityError``…). Each row is
    formatted by psycopg's own dumpers (``write_row``, in C with the binary build); a ``str`` goes
    as text (a JSON column's text included), ``None`` as NULL."""
    sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor, connection.wrap_database_errors, cursor.cursor.copy(sql) as copy:
        write = copy.write_row
        for row in rows:
            write(row)


def _insert_many(records: list[DoseRecord]) -> None:
    sqlite = connection.vendor == "sqlite"
    created_at = timezone.now()
    if pre_save.has_listeners(DoseRecord) or post_save.has_listeners(DoseRecord):
        for d in records:  # a receiver is never skipped (as core.audit.insert_row)
            d.created_at = created_at
            d.save(force_insert=True)
        return
    with connection.cursor() as cursor:
        if sqlite and len(records) >= COPY_MIN:
            # The IMMEDIATE transaction holds the write lock: nobody can take these ids meanwhile.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {_TABLE}")
            top = cursor.fetchone()[0]
            cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [_TABLE])
            row = cursor.fetchone()
            top = max(top, row[0] if row else 0)
            texts: dict[dt.datetime, str] = {}
            for offset, d in enumerate(records, 1):
                d.__dict__["id"] = top + offset
            cursor.executemany(
                f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
                [_values(d, created_at, True, texts) for d in records],
            )
        elif len(records) >= COPY_MIN:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [_TABLE, len(records)],
            )
            for d, (pk,) in zip(records, cursor.fetchall(), strict=True):
                d.__dict__["id"] = pk
            copy_rows(_TABLE, _COLUMNS, [_values(d, created_at, False) for d in records])
        else:
            one = "(" + ", ".join(["%s"] * len(_NO_PK)) + ")"
            for start in range(0, len(records), _INSERT_ROWS):
                chunk = records[start:start + _INSERT_ROWS]
                params = [x for d in chunk for x in _values(d, created_at, sqlite)[1:]]
                cursor.execute(
                    f"INSERT INTO {_TABLE} ({', '.join(_NO_PK)}) VALUES {', '.join([one] * len(chunk))} RETURNING id",
                    params,
                )
                # Both engines return the rows of a multi-row VALUES in order (Django's
                # bulk_create relies on it as well).
                for d, (pk,) in zip(chunk, cursor.fetchall(), strict=True):
                    d.__dict__["id"] = pk
    for d in records:
        d.__dict__["created_at"] = created_at
        d._state.adding, d._state.db = False, connection.alias


def write_batch(
    records: list[DoseRecord], *, paths: list[tuple[str, str]], acting_user: Any, source: str,
    single_audit: dict[str, Any] | None, batch_audit: dict[str, Any] | None,
    days: Sequence[dt.date] | None = None,
) -> None:
    """Insert ``records`` (decided, ids unset), upsert their counters once per key, write the
    audit: ``single_audit`` (the after-values of today's ``dose.record`` event, for a batch of
    one) or ``batch_audit`` (one ``dose.batch`` event). ``paths`` gives each record's (site
    division path, residence path); ``days`` (optional) each record's day in the campaign's zone.
    Call inside the batch's transaction."""
    if not records:
        return
    if single_audit is not None and len(records) == 1:
        dose = records[0]
        _insert_many(records)
        bump_counter(dose, +1, path=paths[0][0], residence_path=paths[0][1])
        audit("dose.record", dose, actor=acting_user, source=source, county_code=dose.county_code,
              after=single_audit)
        return
    _insert_many(records)
    sites: dict[tuple, int] = {}
    homes: dict[tuple, int] = {}
    if days is None:
        days = [d.administered_at.astimezone(TZ).date() for d in records]
    home_counties: dict[str, str] = {}  # residence path -> its county (path_county once per path)
    for d, (path, home), day in zip(records, paths, days, strict=True):
        v = d.__dict__
        key = (v["division_id"], day, d.product.code, v["dose_number"], v["kind"],
               v["completes_series"], v["age_band"], v["priority_group"], path, v["county_code"])
        sites[key] = sites.get(key, 0) + 1
        home = home or county_path(path, v["county_code"])
        county = home_counties.get(home)
        if county is None:
            county = home_counties[home] = path_county(home)
        rkey = (home, day, v["dose_number"], v["kind"], v["completes_series"], v["age_band"], county)
        homes[rkey] = homes.get(rkey, 0) + 1
    bump_counters(sites, homes)
    counties = {d.county_code for d in records}
    first = records[0]
    event = AuditEvent(
        at=timezone.now(), actor=acting_user if getattr(acting_user, "pk", None) else None, action="dose.batch",
        object_type=first._meta.label_lower, object_id=str(first.pk), before=None,
        after={**(batch_audit or {}), "first_id": first.pk, "last_id": records[-1].pk},
        source=source, county_code=counties.pop() if len(counties) == 1 else "",
    )
    insert_row(event)
