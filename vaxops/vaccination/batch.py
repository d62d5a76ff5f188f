"""Doses in batches: the one write path for doses from the desk, the API, device sync, imports
and the demo (a single dose is a batch of one: ``services.record_dose`` calls ``record_doses``).

The interface below is the contract every caller uses; see ``record_doses``. The engine checks
every item in memory against one read per batch of the state it needs (lots, persons locked in
id order, their valid doses and the batch's submissions, open deferrals, sessions) and writes
the accepted ones together (``batch_write``).
"""

from __future__ import annotations

import datetime as dt
import gc
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.db import IntegrityError
from django.utils import timezone

from vaxops.core.errors import VaxopsError


@dataclass(frozen=True, slots=True)
class DoseItem:
    """One dose to record: the body of ``POST /api/v1/doses``.

    The person is named by ``person_id`` or, for imports, by ``id_number`` (exactly one of the
    two). Times carry their offset.
    """

    client_uuid: uuid.UUID | str
    product_code: str
    lot_number: str
    site_code: str
    administered_at: dt.datetime
    person_id: int | None = None
    id_number: str | None = None
    dose_number: int | None = None
    override_reason: str | None = None
    retrospective_reason: str | None = None


@dataclass(slots=True)
class DoseOutcome:
    """What became of one item, in the order sent.

    ``written`` says whether ``record`` is in the database: False for every item of a
    ``dry_run``, and of an ``atomic`` batch refused because some item was (``status`` still says
    what the item would have been; a ``created`` item's ``record`` is then unsaved, without id);
    a replay of a record committed earlier is True.
    """

    index: int
    client_uuid: uuid.UUID | None
    status: Literal["created", "replayed", "rejected"]
    record: Any = None  # the DoseRecord created or replayed
    error: VaxopsError | None = None
    written: bool = False

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None


# Attempts of a batch that lost a race on a unique index (another batch committed the same
# submission, or a dose number, first): each reads the state again and decides again.
ATTEMPTS = 4
# From this many items on, the cyclic garbage collector is paused while the batch runs.
GC_PAUSE_MIN = 500


def record_doses(
    items: Sequence[DoseItem],
    *,
    acting_user: Any,
    source: str,
    atomic: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    within: Callable[[list[DoseOutcome]], None] | None = None,
) -> list[DoseOutcome]:
    """Record a batch of doses with exactly the rules of one dose; one outcome per item, in order.

    Each item stands alone unless ``atomic``: then one rejected item writes nothing at all (the
    other items' outcomes are still reported as they would have been, ``written`` False).
    ``dry_run`` checks everything and writes nothing. Items are decided in the order sent, each
    seeing the ones accepted before it (dose 1 then dose 2 of one person in one batch; a
    ``client_uuid`` sent twice: the second is a replay of the first if its content is the same,
    else ``idempotency_conflict``). ``now`` is the moment of recording (default: the clock);
    only a replay of history (the demo) passes it.

    One durable transaction per call: the accepted doses, their counters (one upsert per key)
    and the audit (a batch of one: its ``dose.record`` event; more: one ``dose.batch`` event
    with the counts and the overrides and retrospective entries in it) commit together. A batch
    that loses a race on a unique index is read and decided again (up to ``ATTEMPTS`` times).

    ``within(outcomes)``, when given, runs inside that transaction after the doses are written
    (not for a ``dry_run`` or a refused ``atomic`` batch): a caller's own writes that must commit
    with the doses or not at all (a visit's link to its dose). A ``VaxopsError`` it raises rolls
    the whole batch back and reaches the caller; it must not let an ``IntegrityError`` escape
    (that would be taken for a lost race and the batch decided again).
    """
    from vaxops.supply.dosestock import StockMoved
    from vaxops.vaccination.batch_engine import Batch

    now = now or timezone.now()
    # A large batch allocates tens of thousands of objects that all live until it ends: the
    # cyclic collector's passes over them would cost more than the batch's own work.
    pause = len(items) >= GC_PAUSE_MIN and gc.isenabled()
    if pause:
        gc.disable()
    try:
        early, lost = False, 0
        while True:
            batch = Batch(items, acting_user=acting_user, source=source, now=now, lock_stock_early=early,
                          within=within)
            try:
                return batch.run(atomic=atomic, dry_run=dry_run)
            except StockMoved:
                early = True  # decided again with the balances locked from the start: cannot move
            except IntegrityError:
                lost += 1
                if lost == ATTEMPTS:
                    return batch.lost_race()
    finally:
        if pause:
            gc.enable()


def record_one(item: DoseItem, *, acting_user: Any, source: str, now: dt.datetime | None = None) -> DoseOutcome:
    """``record_doses([item])[0]``."""
    return record_doses([item], acting_user=acting_user, source=source, now=now)[0]

