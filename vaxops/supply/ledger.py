"""The one writer of the stock ledger: events, their lines and the balances, together.

Every service that moves stock (receipts, transfers, adjustments, counts, excursion discards,
the dose path, open-vial wastage) builds ``Line`` values and calls ``post`` inside its own
durable transaction; ``post`` locks the balances it touches (in one order, so two writers
cannot deadlock), refuses a debit below zero or from stock on hold, appends the event and its
lines and moves the balances. It writes no audit event: the calling service does, once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from vaxops.core.audit import insert_row
from vaxops.core.errors import VaxopsError
from vaxops.supply.models import ReasonCategory, StockBalance, StockEvent, StockLine, Store
from vaxops.supply.reasons import reason as reason_by_code

# Debits of these categories are what a hold stops (a dose, a dispatch); a hold never stops
# a discard, a count or a return.
HELD_CATEGORIES = frozenset({ReasonCategory.TRANSFER, ReasonCategory.ADMINISTRATION})
# Debits a quarantined or recalled lot may not make (vaxops.supply.lots): it stays where it is
# until released (or is written off there). Doses are refused earlier, when the dose path reads
# its batch's lots (vaccination.batch_engine.read_lots).
LOT_STATUS_STOPS = frozenset({"transfer_out"})


def _held(reason) -> bool:
    """Whether a hold stops a debit of ``reason`` (open-vial wastage is a discard: never held)."""
    return reason.category in HELD_CATEGORIES and not reason.is_wastage


@dataclass(frozen=True)
class Line:
    """One store × lot change: ``quantity`` signed (+ credit, − debit), in doses."""

    store_id: int
    lot_id: int
    quantity: int
    reason: str  # StockReason code
    source_store_id: int | None = None
    destination_store_id: int | None = None


@dataclass
class Balance:
    """A locked balance row as ``lock`` read it (``pk`` None: no row yet, on hand 0)."""

    pk: int | None
    store_id: int
    lot_id: int
    on_hand: int
    on_hold: bool


def _key(store_id: int, lot_id: int) -> tuple[int, int]:
    return (store_id, lot_id)


def lock(keys: Iterable[tuple[int, int]], *, for_update: bool = True) -> dict[tuple[int, int], Balance]:
    """Read (and on PostgreSQL lock, FOR UPDATE in (store, lot) order) the balances of ``keys``.

    Call inside a transaction; keys with no row yet come back with ``pk=None``, on hand 0.
    On SQLite the write transaction (``BEGIN IMMEDIATE``) already serialises writers.
    ``for_update=False`` only reads (a dose batch's first look; it locks before it writes).
    """
    wanted = sorted(set(keys))
    found: dict[tuple[int, int], Balance] = {}
    if wanted:
        # One prepared statement (it is on the dose path): no query compilation per call.
        stores, lots = sorted({k[0] for k in wanted}), sorted({k[1] for k in wanted})
        table = connection.ops.quote_name(StockBalance._meta.db_table)
        sql = (f"SELECT id, store_id, lot_id, on_hand, on_hold FROM {table} "
               f"WHERE store_id IN ({', '.join(['%s'] * len(stores))}) AND lot_id IN ({', '.join(['%s'] * len(lots))})")
        if connection.vendor == "postgresql" and for_update:
            sql += " ORDER BY store_id, lot_id FOR UPDATE"
        with connection.cursor() as cursor:
            cursor.execute(sql, [*stores, *lots])
            rows = cursor.fetchall()
        wanted_set = set(wanted)
        for pk, store_id, lot_id, on_hand, on_hold in rows:
            k = _key(store_id, lot_id)
            if k in wanted_set:
                found[k] = Balance(pk, store_id, lot_id, on_hand, bool(on_hold))
    return {k: found.get(k) or Balance(None, k[0], k[1], 0, False) for k in wanted}


def _create_and_lock(keys: list[tuple[int, int]], now: dt.datetime) -> dict[tuple[int, int], Balance]:
    """Create the missing balance rows at zero (a concurrent writer's row wins) and lock them.

    Two transactions crediting a store × lot that has no row yet would otherwise both INSERT
    and one would fail on the unique index; with the row there first, the second waits on its
    lock and then sees the first one's doses.
    """
    StockBalance.objects.bulk_create(
        [StockBalance(store_id=s, lot_id=lot, on_hand=0, on_hold=False, updated_at=now) for s, lot in keys],
        ignore_conflicts=True,
    )
    return lock(keys)


def release_hold(keys: Iterable[tuple[int, int]]) -> int:
    """Clear the on-hold mark of the balances of ``keys`` (a missing temperature record was
    supplied); call inside the transaction that decided it, after ``lock``. Returns rows changed."""
    keys = sorted(set(keys))
    changed = 0
    for store_id, lot_id in keys:
        changed += StockBalance.objects.filter(store_id=store_id, lot_id=lot_id, on_hold=True).update(
            on_hold=False, updated_at=timezone.now())
    return changed


def held_stores(store_ids: Iterable[int]) -> set[int]:
    """The stores among ``store_ids`` with all their stock on hold (an open excursion)."""
    ids = set(store_ids)
    if not ids:
        return set()
    return set(Store.objects.filter(pk__in=ids, on_hold=True).values_list("pk", flat=True))


def _check_lot_status(lot_ids: set[int]) -> None:
    """Refuse (``lot_quarantined`` / ``lot_recalled``) when one of ``lot_ids`` is not released.

    Read after the balances are locked: a status change locks the same balances, so it either
    waits for this event or is seen by it.
    """
    if not lot_ids:
        return
    from vaxops.supply.models import Lot, LotStatus

    for number, status in (Lot.objects.filter(pk__in=lot_ids).exclude(status=LotStatus.RELEASED)
                           .order_by("lot_number").values_list("lot_number", "status")[:1]):
        code = "lot_recalled" if status == LotStatus.RECALLED else "lot_quarantined"
        raise VaxopsError(code, {"lot_number": number})


def post(
    lines: Sequence[Line],
    *,
    reason: str,
    user: Any,
    occurred_at: dt.datetime,
    document_number: str = "",
    client_uuid: uuid.UUID | None = None,
    reverses: StockEvent | None = None,
    transfer=None,
    detail: dict | None = None,
    note: str = "",
    locked: dict[tuple[int, int], Balance] | None = None,
    hold: bool | None = None,
    lot_numbers: dict[int, str] | None = None,
    held: set[int] | None = None,
) -> StockEvent:
    """Append one event with ``lines`` and move the balances; call inside a transaction.

    Refuses (``VaxopsError``, nothing written): no line or a zero line (``invalid_quantity``),
    one store × lot twice (``duplicate_lot_in_event``), an occurred time in the future
    (``occurred_in_future``), a debit of a transfer or a dose from stock on hold
    (``stock_on_hold``), a transfer out of a lot not released (``lot_quarantined``,
    ``lot_recalled``), a debit below zero (``insufficient_stock`` with ``on_hand`` and
    ``requested``). ``locked`` passes balances the caller already locked with ``lock``;
    ``hold`` sets (True) or clears (False) the on-hold mark of every credited balance;
    ``lot_numbers`` (lot id → number) only makes the errors' details readable; ``held`` gives
    the stores on hold among the lines' as the caller read them in this transaction (their read
    is skipped).

    Called outside any transaction (a setup script), it opens its own, so the event, its lines
    and the balances still commit together.
    """
    if connection.get_autocommit():
        with transaction.atomic():
            return post(lines, reason=reason, user=user, occurred_at=occurred_at, document_number=document_number,
                        client_uuid=client_uuid, reverses=reverses, transfer=transfer, detail=detail, note=note,
                        locked=locked, hold=hold, lot_numbers=lot_numbers, held=held)
    now = timezone.now()
    if not lines or any(line.quantity == 0 for line in lines):
        raise VaxopsError("invalid_quantity")
    if occurred_at > now + dt.timedelta(minutes=5):
        raise VaxopsError("occurred_in_future", {"occurred_at": occurred_at.isoformat()})
    keys = [_key(line.store_id, line.lot_id) for line in lines]
    if len(set(keys)) != len(keys):
        lot_id = next(k for k in keys if keys.count(k) > 1)[1]
        raise VaxopsError("duplicate_lot_in_event", {"lot_number": (lot_numbers or {}).get(lot_id, lot_id)})
    reasons = {line.reason: reason_by_code(line.reason) for line in lines}
    balances = dict(locked) if locked is not None else {}
    missing = [k for k in keys if k not in balances]
    if missing:
        balances.update(lock(missing))
    new_credits = [k for k, line in zip(keys, lines, strict=True) if line.quantity > 0 and balances[k].pk is None]
    if new_credits and connection.vendor == "postgresql":
        balances.update(_create_and_lock(new_credits, now))
    debits = [line for line in lines if line.quantity < 0]
    if held is None:
        held = held_stores(line.store_id for line in debits if _held(reasons[line.reason]))
    _check_lot_status({line.lot_id for line in debits if line.reason in LOT_STATUS_STOPS})
    for line in debits:
        b = balances[_key(line.store_id, line.lot_id)]
        if _held(reasons[line.reason]) and (line.store_id in held or b.on_hold):
            raise VaxopsError("stock_on_hold", {"store_id": line.store_id,
                                                "lot_number": (lot_numbers or {}).get(line.lot_id)})
        if b.on_hand + line.quantity < 0:
            raise VaxopsError("insufficient_stock", {
                "on_hand": b.on_hand, "requested": -line.quantity, "store_id": line.store_id,
                "lot_number": (lot_numbers or {}).get(line.lot_id),
            })
    # Append-only facts, written on the dose path too: one prepared INSERT each (core.audit.insert_row).
    event = StockEvent(
        occurred_at=occurred_at, recorded_at=now, user=user if getattr(user, "pk", None) else None,
        reason=reason_by_code(reason), document_number=document_number, client_uuid=client_uuid,
        reverses=reverses, transfer=transfer, detail=detail or {}, note=note,
    )
    insert_row(event)
    rows = [
        StockLine(event=event, store_id=line.store_id, lot_id=line.lot_id, quantity=line.quantity,
                  reason=reasons[line.reason], source_store_id=line.source_store_id,
                  destination_store_id=line.destination_store_id, occurred_at=occurred_at)
        for line in lines
    ]
    if len(rows) == 1:
        insert_row(rows[0])
    else:
        StockLine.objects.bulk_create(rows)
    _move(balances, lines, now, hold)
    return event


def post_debits(rows: Sequence[tuple[int, int, int, int]], *, reason: str, user: Any, occurred_at: dt.datetime,
                detail: dict | None = None) -> bool:
    """The dose path's write on PostgreSQL: one event with one line per (balance id, store, lot,
    negative quantity) and the balances moved, in ONE statement; the balances are updated only
    where the result stays at or above zero and neither the row nor its store is on hold.
    Returns False (and the caller's transaction must be rolled back) when any balance refused:
    the event and lines of the statement are then rolled back with it. No status or route
    checks: the caller decided them on the balances it read (``vaxops.supply.dosestock``)."""
    qn = connection.ops.quote_name
    now = timezone.now()
    events, lines, balances = (qn(m._meta.db_table) for m in (StockEvent, StockLine, StockBalance))
    r = reason_by_code(reason)
    detail_field = StockEvent._meta.get_field("detail")
    values = ", ".join(["(%s::bigint, %s::bigint, %s::bigint, %s::integer)"] * len(rows))
    sql = (
        f"WITH v (balance_id, store_id, lot_id, quantity) AS (VALUES {values}), "
        f"ev AS (INSERT INTO {events} (occurred_at, recorded_at, user_id, reason_id, document_number, client_uuid, "
        f"reverses_id, transfer_id, detail, note) VALUES (%s, %s, %s, %s, '', NULL, NULL, NULL, %s, '') "
        f"RETURNING id), "
        f"ln AS (INSERT INTO {lines} (event_id, store_id, lot_id, quantity, reason_id, source_store_id, "
        f"destination_store_id, occurred_at) SELECT ev.id, v.store_id, v.lot_id, v.quantity, %s, NULL, NULL, %s "
        f"FROM ev, v) "
        f"UPDATE {balances} b SET on_hand = b.on_hand + v.quantity, updated_at = %s FROM v "
        f"WHERE b.id = v.balance_id AND NOT b.on_hold AND b.on_hand + v.quantity >= 0 "
        f"AND NOT EXISTS (SELECT 1 FROM {qn(Store._meta.db_table)} s WHERE s.id = b.store_id AND s.on_hold) "
        f"RETURNING b.id"
    )
    # The params' order follows the statement: VALUES rows first.
    params = [*[x for row in rows for x in row], occurred_at, now,
              user.pk if getattr(user, "pk", None) else None, r.pk,
              detail_field.get_db_prep_save(detail or {}, connection), r.pk, occurred_at, now]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return len(cursor.fetchall()) == len(rows)


def move_debits(rows: Sequence[tuple[int, int]]) -> bool:
    """The dose path's balance move on SQLite: each (balance id, negative quantity) in ONE
    statement, applied only where the balance stays at or above zero and neither it nor its
    store is on hold. Returns False (and the caller's transaction must be rolled back) when any
    balance refused. The event and its lines are the caller's (``append``); no hold, status or
    route checks beyond these: the caller decided them on the balances it read."""
    table = connection.ops.quote_name(StockBalance._meta.db_table)
    stores = connection.ops.quote_name(Store._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(rows))
    sql = (
        f"UPDATE {table} SET on_hand = on_hand + v.column2, updated_at = %s FROM (VALUES {values}) v "
        f"WHERE {table}.id = v.column1 AND NOT {table}.on_hold AND {table}.on_hand + v.column2 >= 0 "
        f"AND NOT EXISTS (SELECT 1 FROM {stores} s WHERE s.id = {table}.store_id AND s.on_hold)"
    )
    params = [connection.ops.adapt_datetimefield_value(timezone.now()), *[x for row in rows for x in row]]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount == len(rows)


_EVENT_COLUMNS = ("id", "occurred_at", "recorded_at", "user_id", "reason_id", "document_number", "client_uuid",
                  "reverses_id", "transfer_id", "detail", "note")
_LINE_COLUMNS = ("id", "event_id", "store_id", "lot_id", "quantity", "reason_id", "source_store_id",
                 "destination_store_id", "occurred_at")
if (tuple(f.column for f in StockEvent._meta.concrete_fields) != _EVENT_COLUMNS
        or tuple(f.column for f in StockLine._meta.concrete_fields) != _LINE_COLUMNS):
    # A new column must be written by ``append`` (and named here) before it ships.
    raise RuntimeError("StockEvent or StockLine columns changed: update ledger.append")


def append(lines: Sequence[Line], *, reason: str, user: Any, occurred_at: dt.datetime,
           detail: dict | None = None) -> int:
    """Append one event with ``lines`` (one reason, no document, no transfer) and move NO
    balance, in two statements: for the dose path on SQLite, whose balances ``move_debits``
    has already moved in this transaction. Returns the event's id. Call inside a transaction.
    A receiver of the models' save signals is never skipped (as ``core.audit.insert_row``)."""
    from django.db.models.signals import post_save, pre_save

    r = reason_by_code(reason)
    if any(s.has_listeners(m) for s in (pre_save, post_save) for m in (StockEvent, StockLine)):
        event = StockEvent(occurred_at=occurred_at, recorded_at=timezone.now(),
                           user=user if getattr(user, "pk", None) else None, reason=r, detail=detail or {})
        event.save(force_insert=True)
        for line in lines:
            StockLine(event=event, store_id=line.store_id, lot_id=line.lot_id, quantity=line.quantity,
                      reason=reason_by_code(line.reason), occurred_at=occurred_at).save(force_insert=True)
        return event.pk
    qn, ops = connection.ops.quote_name, connection.ops
    at = ops.adapt_datetimefield_value(occurred_at)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {qn(StockEvent._meta.db_table)} ({', '.join(_EVENT_COLUMNS[1:])}) "
            f"VALUES (%s, %s, %s, %s, '', NULL, NULL, NULL, %s, '') RETURNING id",
            [at, ops.adapt_datetimefield_value(timezone.now()), user.pk if getattr(user, "pk", None) else None,
             r.pk, StockEvent._meta.get_field("detail").get_db_prep_save(detail or {}, connection)],
        )
        event_id = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {qn(StockLine._meta.db_table)} ({', '.join(_LINE_COLUMNS[1:])}) VALUES "
            + ", ".join(["(%s, %s, %s, %s, %s, NULL, NULL, %s)"] * len(lines)),
            [x for line in lines
             for x in (event_id, line.store_id, line.lot_id, line.quantity, reason_by_code(line.reason).pk, at)],
        )
    return event_id


def _move(balances: dict[tuple[int, int], Balance], lines: Sequence[Line], now: dt.datetime, hold: bool | None):
    """Apply the lines to the (locked) balances: one UPDATE per existing row, one bulk INSERT
    of the new ones."""
    new: list[StockBalance] = []
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(StockBalance._meta.db_table)
        for line in lines:
            b = balances[_key(line.store_id, line.lot_id)]
            b.on_hand += line.quantity
            mark = b.on_hold if hold is None or line.quantity < 0 else hold
            b.on_hold = mark
            if b.pk is None:
                new.append(StockBalance(store_id=b.store_id, lot_id=b.lot_id, on_hand=b.on_hand, on_hold=mark,
                                        updated_at=now))
            else:
                cursor.execute(
                    f"UPDATE {table} SET on_hand = on_hand + %s, on_hold = %s, updated_at = %s WHERE id = %s",
                    [line.quantity, mark, now, b.pk],
                )
    if new:
        for row in StockBalance.objects.bulk_create(new):
            if row.pk is not None:
                balances[_key(row.store_id, row.lot_id)].pk = row.pk


def rebuild() -> int:
    """Recompute every balance from the lines (``vaxops rebuild-stock``); returns rows written.

    Balances are replaced by the sums of the lines; holds are kept. Run in one transaction: on
    PostgreSQL the balance table is locked against writers (``post`` waits) until it commits.
    """
    from django.db.models import Sum

    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {connection.ops.quote_name(StockBalance._meta.db_table)} IN EXCLUSIVE MODE")
    sums = {
        (s, lot): total
        for s, lot, total in StockLine.objects.values("store_id", "lot_id").annotate(total=Sum("quantity"))
        .values_list("store_id", "lot_id", "total")
    }
    holds = {(s, lot): h for s, lot, h in StockBalance.objects.values_list("store_id", "lot_id", "on_hold")}
    StockBalance.objects.all().delete()
    StockBalance.objects.bulk_create(
        [StockBalance(store_id=s, lot_id=lot, on_hand=total, on_hold=holds.get((s, lot), False), updated_at=now)
         for (s, lot), total in sorted(sums.items())],
        batch_size=2000,
    )
    return len(sums)
