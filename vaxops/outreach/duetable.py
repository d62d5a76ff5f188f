"""The writers of the due table (``DueEntry``): one row per resident, kept in the transaction of
every change that moves a person's next due date or their place on the lists.

* ``add_people``: new residents (``registry.batch.register_people``), one insert per batch.
* ``after_doses``: a dose batch (``vaccination.batch_engine``), one upsert per batch (per 500
  rows), computed from the history the batch has already read: no read of its own.
* ``refresh``: a few people recomputed from the database (a contact, a deferral, a person
  status change, a voided dose), one read of each source and one upsert.
* ``set_groups``: people's priority groups changed (``keygroups.services.add_members``): their
  rank, one update per rank and chunk.
* ``rebuild``: every row of an area again (the ``rebuild_worklists`` command).

Product rules come from ``vaccination.services.catalog_products`` (its cache and invalidation);
priority-group ranks from ``_ranks`` below, a per-process copy of the small ``PriorityGroup``
table dropped whenever a group is saved or deleted in this process (other processes: until the
next rebuild, a rank only orders a list).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models.signals import post_delete, post_save

from vaxops.outreach.due import Due, GivenDose, first_dose_due, first_dose_windows, list_date, next_due
from vaxops.outreach.models import DueEntry, DueKind

TABLE = DueEntry._meta.db_table
COLUMNS = ("person_id", "home_path", "county_code", "township_code", "kind", "dose_number", "due_date", "overdue_on", "hold_until",
           "list_date", "birth_date", "priority_rank", "last_outcome", "last_contact_at")
CHUNK = 500
NO_GROUP_RANK = 1000

_RANKS: dict[str, int] | None = None


def _ranks() -> dict[str, int]:
    global _RANKS
    if _RANKS is None:
        from vaxops.registry.models import PriorityGroup

        _RANKS = dict(PriorityGroup.objects.values_list("code", "rank"))
    return _RANKS


def _forget_ranks(sender, **kwargs) -> None:
    global _RANKS
    _RANKS = None


def connect_signals() -> None:
    from vaxops.registry.models import PriorityGroup

    post_save.connect(_forget_ranks, sender=PriorityGroup, dispatch_uid="outreach.ranks.save")
    post_delete.connect(_forget_ranks, sender=PriorityGroup, dispatch_uid="outreach.ranks.delete")


@functools.lru_cache(maxsize=4096)
def township_of(path: str) -> str:
    """The code of the township a home division lies in ("" above township level): the
    nine-digit code among the path's codes ("510000/513300/513301/513301001/…")."""
    return next((code for code in path.split("/") if len(code) == 9), "")


def rank_of(groups: Sequence[str] | None) -> int:
    """The rank of the person's highest priority group (lower first; no group: last)."""
    if not groups:
        return NO_GROUP_RANK
    ranks = _ranks()
    return min(ranks.get(g, 100) for g in groups)


def series() -> str:
    """The campaign's series the lists follow (``VAXOPS_OUTREACH_SERIES``)."""
    return getattr(settings, "VAXOPS_OUTREACH_SERIES", "COVID19")


def rules() -> dict[str, Any]:
    from vaxops.vaccination.services import catalog_products

    return {code: p.rule for code, p in catalog_products().items()}


_DATES = tuple(COLUMNS.index(c) for c in ("due_date", "overdue_on", "hold_until", "list_date", "birth_date",
                                           "last_contact_at"))


def _params(chunk: Sequence[tuple]) -> list[Any]:
    """The statement's parameters: as they are on PostgreSQL; on SQLite the dates and times as
    Django stores them (ISO text), converted once per row, the engine looked up once per chunk."""
    if connection.vendor != "sqlite":
        return [v for row in chunk for v in row]
    adapt_time = connection.ops.adapt_datetimefield_value
    out: list[Any] = []
    # A chunk's rows share most of their dates (the batch's due dates): each converted once.
    text: dict[Any, str] = {}
    for row in chunk:
        values = list(row)
        for i in _DATES:
            v = values[i]
            if v is not None:
                if (s := text.get(v)) is None:
                    s = text[v] = adapt_time(v) if isinstance(v, dt.datetime) else v.isoformat()
                values[i] = s
        out.extend(values)
    return out


_STAGE = "outreach_due_stage"
# From this many rows PostgreSQL upserts through a staging table filled by COPY (below: one
# multi-row INSERT per chunk, whose parameters the client binds one by one).
STAGE_MIN = 64


def _upsert_staged(rows: Sequence[tuple], update: str) -> None:
    """PostgreSQL: the rows COPYed into a temporary table of this connection (emptied at each
    commit), then one ``INSERT … SELECT … ON CONFLICT`` into the due table."""
    from vaxops.vaccination.batch_write import copy_rows

    columns = ", ".join(COLUMNS)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT to_regclass('pg_temp.{_STAGE}')")
        if cursor.fetchone()[0] is None:
            cursor.execute(f"CREATE TEMPORARY TABLE {_STAGE} (LIKE {TABLE} INCLUDING DEFAULTS) ON COMMIT DELETE ROWS")
        copy_rows(_STAGE, COLUMNS, rows)
        # A person appears once per batch: the statement never updates a row twice.
        cursor.execute(
            f"INSERT INTO {TABLE} ({columns}) SELECT {columns} FROM {_STAGE} ON CONFLICT (person_id) DO UPDATE SET {update}"
        )
        cursor.execute(f"DELETE FROM {_STAGE}")


def _upsert(rows: Sequence[tuple], update: str) -> None:
    if not rows:
        return
    if len(rows) >= STAGE_MIN and connection.vendor == "postgresql":
        _upsert_staged(rows, update)
        return
    one = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start:start + CHUNK]
            cursor.execute(
                f"INSERT INTO {TABLE} ({', '.join(COLUMNS)}) VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT (person_id) DO UPDATE SET {update}",
                _params(chunk),
            )


_ALL = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS if c != "person_id")
# After a dose: the next due date changes, a hold stays (it still keeps the person off the
# lists until it ends), a person out of the lists stays out.
_AFTER_DOSE = (
    f"kind = CASE WHEN {TABLE}.kind = 'out' THEN 'out' ELSE excluded.kind END, "
    "dose_number = excluded.dose_number, due_date = excluded.due_date, overdue_on = excluded.overdue_on, "
    f"list_date = CASE WHEN {TABLE}.hold_until IS NOT NULL AND {TABLE}.hold_until > excluded.due_date "
    f"THEN {TABLE}.hold_until ELSE excluded.due_date END"
)


def _due_fields(due: Due | None, hold: dt.date | None) -> tuple:
    if due is None:
        return (DueKind.NONE, 1, None, None, hold, None)
    return (due.kind, due.dose_number, due.due_date, due.overdue_on, hold, list_date(due.due_date, hold))


def add_people(people: Sequence[Any]) -> None:
    """Rows for newly registered residents (``Person`` objects with their home division)."""
    products, name = rules(), series()
    rows = []
    # Without doses a resident's due row is ``next_due``'s first dose, which depends on the birth
    # date alone: the series' windows found once per batch, the row once per birth date.
    windows = first_dose_windows([p for p in products.values() if p.series == name])
    fields_on: dict[dt.date, tuple] = {}
    for p in people:
        fields = fields_on.get(p.birth_date)
        if fields is None:
            fields = fields_on[p.birth_date] = _due_fields(first_dose_due(p.birth_date, windows), None)
        path = p.home_division.path
        rows.append((p.pk, path, p.county_code, township_of(path), *fields, p.birth_date,
                     rank_of(p.priority_groups), "", None))
    if connection.vendor == "postgresql" and len(rows) >= 64:
        from vaxops.vaccination.batch_write import copy_rows

        copy_rows(TABLE, COLUMNS, rows)
        return
    _upsert(rows, _ALL)


def after_doses(people: Iterable[tuple[Any, Sequence[Any]]]) -> None:
    """The due rows of the people of a dose batch: ``(person, history)`` pairs, where the person
    has ``pk, birth_date, path, county_code, groups`` and the history (every valid dose,
    including the batch's) items with ``product_code, dose_number, kind, given_on``."""
    products, name = rules(), series()
    rows = []
    for person, history in people:
        # The history's items have the attributes ``next_due`` reads: passed as they are.
        due = next_due(person.birth_date, history, products, name)
        rows.append((person.pk, person.path, person.county_code, township_of(person.path),
                     *_due_fields(due, None), person.birth_date,
                     rank_of(person.groups), "", None))
    _upsert(rows, _AFTER_DOSE)


def compute_rows(person_ids: Sequence[int]) -> list[tuple]:
    """The due rows of ``person_ids`` computed from the database (people, valid doses, open
    deferrals, their latest contact)."""
    from vaxops.outreach.models import ContactAttempt
    from vaxops.outreach.outcomes import OUTCOMES
    from vaxops.registry.models import Deferral, Person, PersonStatus
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    if not person_ids:
        return []
    products, name = rules(), series()
    people = list(Person.objects.filter(pk__in=person_ids).select_related("home_division")
                  .only("pk", "birth_date", "status", "county_code", "priority_groups", "home_division__path"))
    doses: dict[int, list[GivenDose]] = {}
    for pid, code, number, kind, at in (DoseRecord.objects.filter(person_id__in=person_ids, status=DoseStatus.VALID)
                                        .values_list("person_id", "product__code", "dose_number", "kind",
                                                     "administered_at")):
        from vaxops.campaign.services import TZ

        doses.setdefault(pid, []).append(GivenDose(code, number, kind, at.astimezone(TZ).date()))
    holds: dict[int, dt.date] = {}
    permanent: set[int] = set()
    for pid, until in Deferral.objects.filter(person_id__in=person_ids, lifted_at__isnull=True).values_list(
            "person_id", "until"):
        if until is None:
            permanent.add(pid)
        else:
            back = until + dt.timedelta(days=1)
            holds[pid] = max(holds.get(pid, back), back)
    last: dict[int, tuple] = {}
    for pid, outcome, at, until in (ContactAttempt.objects.filter(person_id__in=person_ids)
                                    .order_by("person_id", "at", "pk").values_list("person_id", "outcome", "at",
                                                                                   "until")):
        last[pid] = (outcome, at, until)
    rows = []
    for p in people:
        outcome, at, until = last.get(p.pk, ("", None, None))
        hold = holds.get(p.pk)
        if outcome in OUTCOMES and OUTCOMES[outcome].hold and until is not None:
            hold = until if hold is None else max(hold, until)
        if p.status != PersonStatus.ACTIVE or p.pk in permanent:
            fields: tuple = (DueKind.OUT, 1, None, None, hold, None)
        else:
            fields = _due_fields(next_due(p.birth_date, doses.get(p.pk, ()), products, name), hold)
        rows.append((p.pk, p.home_division.path, p.county_code, township_of(p.home_division.path), *fields,
                     p.birth_date,
                     rank_of(p.priority_groups), outcome, at))
    return rows


def refresh(person_ids: Iterable[int]) -> None:
    """Recompute the rows of a few people (inside the caller's transaction)."""
    ids = sorted(set(person_ids))
    for start in range(0, len(ids), CHUNK):
        _upsert(compute_rows(ids[start:start + CHUNK]), _ALL)


def set_groups(groups_of: dict[int, Sequence[str]]) -> None:
    """The people's priority groups are now ``groups_of`` ({person id: codes}): their rows' rank
    follows (inside the caller's transaction)."""
    by_rank: dict[int, list[int]] = {}
    for pk, groups in groups_of.items():
        by_rank.setdefault(rank_of(groups), []).append(pk)
    for rank, ids in by_rank.items():
        ids.sort()
        for start in range(0, len(ids), CHUNK):
            DueEntry.objects.filter(person_id__in=ids[start:start + CHUNK]).update(priority_rank=rank)


def rebuild(path: str = "") -> int:
    """Recompute every row of the residents under ``path`` (all: ``""``); returns how many."""
    from vaxops.registry.models import Person

    people = Person.objects.all()
    if path:
        people = people.filter(home_division__path__startswith=path)
    ids = list(people.order_by("pk").values_list("pk", flat=True))
    refresh(ids)
    DueEntry.objects.exclude(person_id__in=Person.objects.values("pk")).delete()
    return len(ids)
