"""Doses draw down stock: the stock side of the one dose write path (docs/supply.md).

``DoseStock`` is what a dose batch (``vaccination.batch_engine``) uses, read once per batch: the
stores of the batch's sites and their balances of its lots, in the batch's lot read (before the
transaction, never cached, as a lot's status). Each dose the batch accepts takes one dose in
memory (``take``), in the order the items were sent. A batch of single-dose lots then moves the
balances after its decisions by one conditional update (``confirm``: never below zero, never
from stock on hold; a refusal sends the batch round again with the balances locked from the
start); any other batch locks them right after the persons' row locks (``ledger.lock``, in
(store, lot) order, so two batches never lock crosswise: persons first, balances second,
everywhere). One ``administered`` event per batch with one line per store × lot (``confirm`` on
PostgreSQL, ``write`` otherwise). A refused item takes nothing; a dry run or an atomic batch
refused writes nothing.

Multi-dose vials (``lot.doses_per_vial`` > 1) are followed per store × lot (the balance lock
covers them): a dose uses the oldest open vial with doses left, else opens a new vial, which
needs a whole vial in the closed stock (on hand − doses left in open vials ≥ doses per vial;
else ``insufficient_stock``). A vial whose window (``product.open_vial_hours``) has passed by
the time of a dose is closed first, its unused doses written off as ``open_vial_wastage``.
``close_open_vials`` (command ``vaxops close-vials``) and ``close_session_vials`` (the end of a
session) write off the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.supply import ledger
from vaxops.supply.models import OpenVial, StockBalance, Store

ADMINISTERED, VOIDED, WASTAGE = "administered", "dose_voided", "open_vial_wastage"
_STORES, _BALANCES = Store._meta.db_table, StockBalance._meta.db_table


@dataclass(slots=True)
class _Vial:
    """An open vial as the batch sees it (``pk`` None: opened in this batch)."""

    pk: int | None
    opened_at: dt.datetime
    expires_at: dt.datetime
    doses_left: int
    closed_at: dt.datetime | None = None
    wasted: int = 0
    changed: bool = False


@dataclass
class _Pair:
    """What the batch did to one store × lot."""

    store_id: int
    lot_id: int
    lot_number: str
    taken: int = 0
    wasted: int = 0
    last_at: dt.datetime | None = None
    wasted_at: dt.datetime | None = None
    vials: list[_Vial] | None = None  # None: a single-dose lot
    closed: list[_Vial] = field(default_factory=list)


class StockMoved(Exception):
    """The balances a batch read without a lock changed before it locked them: the batch is
    decided again with the balances locked from the start (``record_doses`` retries)."""


class DoseStock:
    """The stores and locked balances of one dose batch; see the module docstring."""

    lots: dict[tuple[int, int], Any]
    balances: dict[tuple[int, int], ledger.Balance]

    def __init__(self, pairs: Iterable[tuple[Any, Any]], read: Sequence[tuple] | None = None) -> None:
        """``pairs``: (site, lot) of every item still in play. ``read``: the stock rows read with
        the batch's lots (``stock_columns``: lot id, store id, its site, its hold, balance id,
        on hand, the balance's hold), before the batch's transaction and never cached, as a
        lot's status is read, so a hold found by another process stops the very next batch;
        None: read here (one statement). Then call ``lock`` inside the transaction."""
        self.wanted = {(site.pk, lot.pk): lot for site, lot in pairs}
        site_ids = sorted({s for s, _ in self.wanted})
        if read is None and site_ids:
            read = _read_stock(site_ids, sorted({lot for _, lot in self.wanted}))
        self.stores: dict[int, tuple[int, bool]] = {}
        self.read: dict[tuple[int, int], ledger.Balance] = {}
        for lot_id, store_id, site_id, store_hold, pk, on_hand, on_hold in read or ():
            if store_id is None:
                continue
            self.stores[site_id] = (store_id, bool(store_hold))
            if pk is not None:
                self.read[(store_id, lot_id)] = ledger.Balance(pk, store_id, lot_id, on_hand, bool(on_hold))
        self.moved = False  # SQLite: ``confirm`` moved the balances; ``write`` appends the event

    def lock(self, *, early: bool = False) -> DoseStock:
        """Inside the batch's transaction, right after the persons' locks: lock the balances of
        the (store, lot) pairs (``ledger.lock``, one statement, in (store, lot) order) and, for
        multi-dose lots only, read their open vials (one statement).

        A batch of single-dose lots (unless ``early``) takes no statement here: it decides on the
        balances read with its lots and moves them in ``confirm``, after its decisions, by an
        update that moves a balance only where it stays at or above zero and neither it nor its
        store is on hold (on PostgreSQL the row lock is taken there: every dose of a site and lot
        updates one balance row, so it is held for the writes and the commit only). If a balance
        moved in between in a way that could change a decision, ``confirm`` raises
        ``StockMoved`` and the batch is decided again, locked early.
        """
        wanted = self.wanted
        self.lots = {(self.stores[s][0], lot.pk): lot for (s, _), lot in wanted.items() if s in self.stores}
        self.late = not early and all(_per_vial(lot) == 1 for lot in self.lots.values())
        if self.late:
            self.balances = {k: self.read.get(k) or ledger.Balance(None, k[0], k[1], 0, False) for k in self.lots}
        else:
            self.balances = ledger.lock(self.lots)
        self.refused: set[tuple[int, int]] = set()
        self.pairs: dict[tuple[int, int], _Pair] = {}
        multi = [k for k, lot in self.lots.items() if _per_vial(lot) > 1 and self.balances[k].pk is not None]
        self.vials: dict[tuple[int, int], list[_Vial]] = {k: [] for k in multi}
        if multi:
            rows = OpenVial.objects.filter(
                store_id__in={k[0] for k in multi}, lot_id__in={k[1] for k in multi}, closed_at__isnull=True,
            ).order_by("opened_at", "pk").values_list("pk", "store_id", "lot_id", "opened_at", "expires_at",
                                                      "doses_left")
            for pk, store_id, lot_id, opened, expires, left in rows:
                if (store_id, lot_id) in self.vials:
                    self.vials[(store_id, lot_id)].append(_Vial(pk, opened, expires, left))
        return self

    def take(self, site, lot, product, at: dt.datetime) -> VaxopsError | None:
        """Take one dose of ``lot`` from ``site``'s store at ``at``; the refusal, or None."""
        store = self.stores.get(site.pk)
        if store is None:
            return VaxopsError("lot_not_at_site", {"lot_number": lot.lot_number, "site_code": site.code})
        key = (store[0], lot.pk)
        balance = self.balances[key]
        if balance.pk is None:
            self.refused.add(key)  # read without a lock: a row created meanwhile is seen on retry
            return VaxopsError("lot_not_at_site", {"lot_number": lot.lot_number, "site_code": site.code})
        if store[1] or balance.on_hold:
            self.refused.add(key)
            return VaxopsError("stock_on_hold", {"lot_number": lot.lot_number, "site_code": site.code})
        pair = self.pairs.get(key)
        if pair is None:
            pair = self.pairs[key] = _Pair(key[0], lot.pk, lot.lot_number, vials=self.vials.get(key))
        per_vial = _per_vial(lot)
        if per_vial > 1 and pair.vials is None:
            pair.vials = self.vials.setdefault(key, [])
        if pair.vials is None:
            left = balance.on_hand - pair.taken
            if left < 1:
                self.refused.add(key)
                return VaxopsError("insufficient_stock", {"on_hand": left, "requested": 1,
                                                          "lot_number": lot.lot_number})
        else:
            vial = self._vial(pair, balance, per_vial, product, at)
            if isinstance(vial, VaxopsError):
                return vial
            vial.doses_left -= 1
            vial.changed = True
            if vial.doses_left == 0:  # used up: closed, nothing wasted
                vial.closed_at = at
                pair.vials.remove(vial)
                pair.closed.append(vial)
        pair.taken += 1
        if pair.last_at is None or at > pair.last_at:
            pair.last_at = at
        return None

    def _vial(self, pair: _Pair, balance, per_vial: int, product, at: dt.datetime) -> _Vial | VaxopsError:
        """The open vial this dose comes from: the oldest still in its window, or a new one."""
        for vial in [v for v in pair.vials if v.expires_at <= at]:
            # Its window passed before this dose: the unused doses are written off.
            # Never more than is on the books (stock discarded meanwhile, e.g. after an excursion).
            wasted = max(0, min(vial.doses_left, balance.on_hand - pair.taken - pair.wasted))
            vial.closed_at, vial.wasted, vial.changed = vial.expires_at, wasted, True
            pair.wasted += wasted
            if pair.wasted_at is None or vial.expires_at > pair.wasted_at:
                pair.wasted_at = vial.expires_at
            pair.vials.remove(vial)
            pair.closed.append(vial)
        if pair.vials:
            return pair.vials[0]
        closed = balance.on_hand - pair.taken - pair.wasted
        if closed < per_vial:
            # Only a whole sealed vial can be opened; a remainder below one vial means the books
            # are wrong and a stock count must correct them.
            return VaxopsError("insufficient_stock", {"on_hand": closed, "requested": per_vial,
                                                      "lot_number": pair.lot_number})
        vial = _Vial(None, at, at + dt.timedelta(hours=product.open_vial_hours), per_vial, changed=True)
        pair.vials.append(vial)
        return vial

    def confirm(self, *, user: Any, dry_run: bool = False) -> None:
        """After the batch's decisions, before its writes, for balances decided on the read made
        with the lots (``lock``): move the balances by what the batch took, in one statement that
        moves a balance only where it stays at or above zero and neither it nor its store is on
        hold. On PostgreSQL the same statement posts the event and its lines
        (``ledger.post_debits``, which takes the row locks); on SQLite (``ledger.move_debits``)
        ``write`` appends them after the dose rows (the event names the first and last dose id).
        If a balance no longer allows what was decided (moved below it, put on hold), or a dose
        was refused on what that read showed, raises ``StockMoved`` and the batch is decided
        again, locked from the start."""
        if not self.late:
            return
        if self.refused:
            raise StockMoved(sorted(self.refused))
        taken = sorted((p for p in self.pairs.values() if p.taken), key=lambda p: (p.store_id, p.lot_id))
        self.late = False
        if not taken or dry_run:
            return
        keys = [(p.store_id, p.lot_id) for p in taken]
        if connection.vendor != "postgresql":
            # The IMMEDIATE transaction already holds the write lock: nothing moves meanwhile.
            if not ledger.move_debits([(self.balances[k].pk, -p.taken) for k, p in zip(keys, taken, strict=True)]):
                raise StockMoved(keys)
            self.moved = True
            return
        if len(keys) > 1:
            ledger.lock(keys)  # several rows: locked in (store, lot) order first, as everywhere
        moved = ledger.post_debits(
            [(self.balances[k].pk, p.store_id, p.lot_id, -p.taken) for k, p in zip(keys, taken, strict=True)],
            reason=ADMINISTERED, user=user, occurred_at=max(p.last_at for p in taken),
            detail={"doses": sum(p.taken for p in taken)},
        )
        if not moved:
            raise StockMoved(keys)
        for p in taken:
            p.taken = 0  # posted: ``write`` has nothing left to post for it

    def write(self, *, user: Any, records: Sequence[Any]) -> None:
        """Post what the batch took (and wasted), and save its vials; inside the transaction,
        after the dose rows are written (the event names the first and last dose id)."""
        pairs = sorted(self.pairs.values(), key=lambda p: (p.store_id, p.lot_id))
        wasted = [p for p in pairs if p.wasted]
        waste_event = None
        if wasted:
            waste_event = ledger.post(
                [ledger.Line(p.store_id, p.lot_id, -p.wasted, WASTAGE) for p in wasted], reason=WASTAGE,
                user=user, occurred_at=max(p.wasted_at for p in wasted), locked=self.balances,
                detail={"open_vials": "window passed", "at_dose": True},
            )
        taken = [p for p in pairs if p.taken]
        if taken and self.moved:  # SQLite, balances moved by ``confirm``: the event and its lines
            ids = [r.pk for r in records]
            ledger.append(
                [ledger.Line(p.store_id, p.lot_id, -p.taken, ADMINISTERED) for p in taken], reason=ADMINISTERED,
                user=user, occurred_at=max(p.last_at for p in taken),
                detail={"doses": sum(p.taken for p in taken), "first_dose_id": min(ids), "last_dose_id": max(ids)},
            )
        elif taken:
            ids = [r.pk for r in records]
            ledger.post(
                [ledger.Line(p.store_id, p.lot_id, -p.taken, ADMINISTERED) for p in taken], reason=ADMINISTERED,
                user=user, occurred_at=max(p.last_at for p in taken), locked=self.balances,
                held={pk for pk, on_hold in self.stores.values() if on_hold},
                detail={"doses": sum(p.taken for p in taken), "first_dose_id": min(ids), "last_dose_id": max(ids)},
            )
        _save_vials(pairs, waste_event)


# The stock a dose batch reads with its lots (``vaccination.batch_engine.read_lots``), so that
# stock costs the batch no read of its own: for each lot, the store of each of the batch's sites
# and its balance of that lot. Lots × sites rows: up to FOLD_MAX of them the batch folds the read
# into the lot read, above it ``DoseStock`` reads the balances that exist (one statement).
FOLD_MAX = 64


def stock_columns(lot_alias: str, site_clause: str) -> tuple[str, str]:
    """(select list, joins) added to the lot read: ``site_clause`` restricts ``s.site_id`` to
    the batch's sites. Each row then ends with ``read``'s columns after the lot id."""
    return (", s.id, s.site_id, s.on_hold, b.id, b.on_hand, b.on_hold",
            f" LEFT JOIN {_STORES} s ON {site_clause} AND s.is_active"
            f" LEFT JOIN {_BALANCES} b ON b.store_id = s.id AND b.lot_id = {lot_alias}.id")


def _read_stock(site_ids: list[int], lot_ids: list[int]) -> list[tuple]:
    """The stores of ``site_ids`` with their balances of ``lot_ids`` (rows as ``DoseStock``'s
    ``read``), one statement."""
    sites, lots = ", ".join(["%s"] * len(site_ids)), ", ".join(["%s"] * len(lot_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT b.lot_id, s.id, s.site_id, s.on_hold, b.id, b.on_hand, b.on_hold FROM {_STORES} s "
            f"LEFT JOIN {_BALANCES} b ON b.store_id = s.id AND b.lot_id IN ({lots}) "
            f"WHERE s.site_id IN ({sites}) AND s.is_active",
            [*lot_ids, *site_ids],
        )
        return cursor.fetchall()


def _per_vial(lot) -> int:
    return lot.__dict__.get("doses_per_vial") or 1


def _save_vials(pairs: list[_Pair], waste_event) -> None:
    new: list[OpenVial] = []
    for p in pairs:
        for vial in [*(p.vials or ()), *p.closed]:
            if not vial.changed:
                continue
            event = waste_event if vial.wasted else None
            if vial.pk is None:
                new.append(OpenVial(store_id=p.store_id, lot_id=p.lot_id, opened_at=vial.opened_at,
                                    expires_at=vial.expires_at, doses_left=vial.doses_left,
                                    closed_at=vial.closed_at, close_event=event))
            else:
                OpenVial.objects.filter(pk=vial.pk).update(doses_left=vial.doses_left, closed_at=vial.closed_at,
                                                            close_event=event)
    if new:
        OpenVial.objects.bulk_create(new)


# --- voiding a dose ------------------------------------------------------------------------------


def return_voided_dose(dose, *, user: Any) -> None:
    """The stock side of ``vaccination.services.void_dose``: the dose goes back to its site's
    store (``dose_voided``, +1), into the store × lot's open vial if one is still open (the dose
    was never drawn from it). Call inside the void's transaction. A site without a store (a dose
    recorded before stock was kept) returns nothing."""
    store_id = Store.objects.filter(site_id=dose.site_id).values_list("pk", flat=True).first()
    if store_id is None:
        return
    key = (store_id, dose.lot_id)
    locked = ledger.lock([key])
    ledger.post([ledger.Line(store_id, dose.lot_id, 1, VOIDED)], reason=VOIDED, user=user,
                occurred_at=timezone.now(), locked=locked, detail={"dose_id": dose.pk})
    vial = (OpenVial.objects.filter(store_id=store_id, lot_id=dose.lot_id, closed_at__isnull=True,
                                    expires_at__gt=timezone.now())
            .order_by("opened_at", "pk").first())
    if vial is not None:
        OpenVial.objects.filter(pk=vial.pk).update(doses_left=vial.doses_left + 1)


# --- closing open vials --------------------------------------------------------------------------


def write_off_vials(vials: Sequence[OpenVial], *, at: dt.datetime | None, user: Any, why: str) -> tuple:
    """Close ``vials`` and write their unused doses off as open-vial wastage in one event
    (dated ``at``; ``at`` None: each vial closes at its own expiry and the event is dated at the
    latest). Call inside a transaction; no audit (the calling service writes it). Returns
    (event or None, vials closed, doses written off)."""
    if not vials:
        return None, 0, 0
    keys = sorted({(v.store_id, v.lot_id) for v in vials})
    locked = ledger.lock(keys)
    # Read again under the balance locks: a dose batch may have used or closed them meanwhile.
    fresh = list(OpenVial.objects.filter(pk__in=[v.pk for v in vials], closed_at__isnull=True)
                 .order_by("store_id", "lot_id", "pk"))
    left: dict[tuple[int, int], int] = {}
    for v in fresh:
        left[(v.store_id, v.lot_id)] = left.get((v.store_id, v.lot_id), 0) + v.doses_left
    # Never more than is on the books (stock discarded meanwhile, e.g. after an excursion).
    left = {k: min(n, locked[k].on_hand) for k, n in left.items()}
    event = None
    lines = [ledger.Line(s, lot, -n, WASTAGE) for (s, lot), n in sorted(left.items()) if n > 0]
    when = at or max((v.expires_at for v in fresh), default=timezone.now())
    if lines:
        event = ledger.post(lines, reason=WASTAGE, user=user, occurred_at=when, locked=locked,
                            detail={"open_vials": why, "vials": [v.pk for v in fresh]})
    OpenVial.objects.filter(pk__in=[v.pk for v in fresh]).update(
        closed_at=F("expires_at") if at is None else at, close_event=event,
    )
    return event, len(fresh), sum(left.values())


def close_open_vials(*, store_code: str | None = None, at: dt.datetime | None = None, acting_user: Any,
                     source: str) -> dict[str, int]:
    """Write off the unused doses of every open vial whose window has passed by ``at`` (default
    now), in one store or everywhere: one ``open_vial_wastage`` event, one audit event (none
    when no vial was due). Each vial is closed at its own expiry. Returns {"vials": closed,
    "doses": written off}."""
    at = at or timezone.now()
    with transaction.atomic(durable=True):
        vials = OpenVial.objects.filter(closed_at__isnull=True, expires_at__lte=at)
        store = None
        if store_code is not None:
            store = Store.objects.filter(code=store_code).first()
            if store is None:
                raise VaxopsError("store_not_found", {"store": store_code})
            vials = vials.filter(store=store)
        event, count, doses = write_off_vials(list(vials.order_by("store_id", "lot_id", "pk")), at=None,
                                              user=acting_user, why="window passed")
        if count:
            audit("stock.close_vials", event or store or OpenVial(pk=0), actor=acting_user, source=source,
                  county_code=store.county_code if store else "",
                  after={"store": store_code, "at": at.isoformat(), "vials": count, "doses": doses})
    return {"vials": count, "doses": doses}


def write_off_session_vials(site, day: dt.date, *, at: dt.datetime, user: Any) -> Any:
    """The open vials of ``site``'s store opened on ``day`` (campaign time zone), closed at
    ``at`` with their unused doses written off; no transaction and no audit of its own, for a
    service that closes the session in its transaction. Returns (event or None, vials, doses)."""
    from vaxops.campaign.services import TZ

    start = dt.datetime.combine(day, dt.time(0), TZ)
    vials = list(OpenVial.objects.filter(store__site=site, closed_at__isnull=True, opened_at__gte=start,
                                         opened_at__lt=start + dt.timedelta(days=1)).order_by("pk"))
    return write_off_vials(vials, at=at, user=user, why="session closed")


def close_session_vials(site, day: dt.date, *, at: dt.datetime | None = None, acting_user: Any,
                        source: str) -> dict[str, int]:
    """The session of ``site`` on ``day`` is over: its open vials are closed and their unused
    doses written off (WHO multi-dose vial policy: discard at the end of the session), in one
    durable transaction with one audit event. Returns {"vials": closed, "doses": written off}."""
    at = at or timezone.now()
    with transaction.atomic(durable=True):
        event, count, doses = write_off_session_vials(site, day, at=at, user=acting_user)
        if count:
            audit("stock.close_vials", event or site, actor=acting_user, source=source,
                  county_code=getattr(site, "county_code", ""),
                  after={"site": site.code, "day": day.isoformat(), "vials": count, "doses": doses})
    return {"vials": count, "doses": doses}
