"""Stock services: each one durable transaction with its audit event (docs/supply.md).

Every movement goes through ``vaxops.supply.ledger.post``; these functions add the checks a
user's request needs (scope, route, product, dates, proof of delivery) and the audit.

Common to all of them:

- ``acting_user`` is the user of the request, checked through ``vaxops.access.scope``: a store
  outside the user's area is ``store_not_found`` (404), a role that may not act at all
  ``permission_denied`` (403). ``acting_user=None`` is the system itself (commands, the demo
  builder): no area applies, as for ``access.services.create_user``.
- A refusal is a ``VaxopsError`` raised inside the transaction: nothing is written.
- A ``client_uuid`` makes a submission idempotent: the same content again returns the first
  result with ``replayed=True``; other content under the same id is ``idempotency_conflict``.
  Two identical submissions at the same moment are decided by the unique index: the loser's
  transaction rolls back and it answers as a replay.
- Temperatures: outside −60…+60 °C cannot be a reading (``temperature_out_of_range``); the
  cold chain is 2–8 °C inclusive (疫苗储存和运输管理规范 2017, Art. 16).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from vaxops.access.scope import check_scoped, get_scoped, require
from vaxops.campaign.services import TZ
from vaxops.catalog.models import Product
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.regions.models import Division
from vaxops.supply import ledger
from vaxops.supply.ledger import Line
from vaxops.supply.models import (
    Lot,
    LotStatus,
    ReasonCategory,
    ReasonType,
    StockBalance,
    StockEvent,
    StockLine,
    StockReason,
    Store,
    Transfer,
    TransferLine,
    TransferStatus,
)
from vaxops.supply.reasons import reason as reason_by_code

# A reading outside these cannot be right (a typo, a unit mix-up): refused as input.
TEMPERATURE_LIMITS = (Decimal(-60), Decimal(60))
# Vaccines are stored and transported at 2–8 °C; both ends are in range.
COLD_CHAIN_RANGE = (Decimal(2), Decimal(8))
# More than any real line (a prefecture's whole campaign is about a million doses), and far
# enough from the 32-bit balance column that sums of lines cannot overflow it.
MAX_DOSES_PER_LINE = 10_000_000
# Device clocks drift; the ledger allows the same skew for "occurred in the future".
CLOCK_SKEW = dt.timedelta(minutes=5)
# The audit action that marks a receipt's missing temperature record as supplied (the event
# itself is never edited, so its pending hold is closed by this record).
RECEIPT_TEMPERATURE_ACTION = "stock.receipt.temperature"

T = TypeVar("T")


@dataclass(frozen=True)
class TransferLineIn:
    lot_number: str
    doses: int


@dataclass(frozen=True)
class ReceiptLineIn:
    lot_number: str
    accepted: int
    rejected: int = 0
    rejection_reason: str | None = None  # a StockReason code (e.g. "broken") when rejected > 0


# --------------------------------------------------------------------------------------------
# shared checks


def _store(code: str, user: Any, action: str) -> Store:
    """The store ``code`` if ``user`` may do ``action`` there (``None``: the system, anywhere)."""
    qs = Store.objects.select_related("division", "parent")
    if user is None:
        store = qs.filter(code=code).first()
        if store is None:
            raise VaxopsError("store_not_found", {"store": code})
        return store
    return get_scoped(qs, user, action, not_found="store_not_found", detail={"store": code}, code=code)


def _store_row(store: Store) -> dict[str, Any]:
    """The placement lookups of a store, for ``check_scoped`` on a store already loaded."""
    return {"division__path": store.division.path, "site_id": store.site_id, "pk": store.pk}


def _check_store(user: Any, action: str, store: Store, *, not_found: str, detail=None) -> None:
    if user is not None:
        check_scoped(user, action, Store, _store_row(store), not_found=not_found, detail=detail)


def _require(user: Any, action: str) -> None:
    if user is not None:
        require(user, action)


def _doses(value: Any, *, allow_zero: bool = False) -> int:
    """A whole number of doses (> 0, or ≥ 0 for counts), else ``invalid_quantity``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0 or (value == 0 and not allow_zero):
        raise VaxopsError("invalid_quantity", {"doses": value if isinstance(value, int) else str(value)})
    if value > MAX_DOSES_PER_LINE:
        raise VaxopsError("invalid_quantity", {"doses": value, "max": MAX_DOSES_PER_LINE})
    return value


def _occurred(occurred_at: dt.datetime | None, now: dt.datetime) -> dt.datetime:
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise VaxopsError("invalid_datetime", {"field": "occurred_at"})
    if occurred_at > now + CLOCK_SKEW:
        raise VaxopsError("occurred_in_future", {"occurred_at": occurred_at.isoformat()})
    return occurred_at


def _temperature(celsius: Any) -> Decimal | None:
    """The reading as a Decimal (two places), ``None`` when not given; −60…+60 °C or refused."""
    if celsius is None:
        return None
    try:
        value = Decimal(str(celsius))
    except (InvalidOperation, ValueError):
        raise VaxopsError("temperature_out_of_range", {"celsius": str(celsius)[:20]}) from None
    if not value.is_finite() or not TEMPERATURE_LIMITS[0] <= value <= TEMPERATURE_LIMITS[1]:
        raise VaxopsError("temperature_out_of_range", {"celsius": str(celsius)[:20]})
    return value.quantize(Decimal("0.01"))


def in_cold_chain(celsius: Decimal) -> bool:
    """Whether a temperature lies in the 2–8 °C range (inclusive)."""
    return COLD_CHAIN_RANGE[0] <= celsius <= COLD_CHAIN_RANGE[1]


def _fingerprint(kind: str, content: dict[str, Any]) -> str:
    raw = json.dumps({"kind": kind, **content}, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(raw.encode()).hexdigest()


def _durably(write: Callable[[], T], replay: Callable[[], T | None]) -> T:
    """Run ``write`` in one durable transaction; if it lost a race on a unique submission id
    (IntegrityError), answer what the winner wrote (``replay``) or re-raise."""
    try:
        with transaction.atomic(durable=True):
            return write()
    except IntegrityError:
        hit = replay()
        if hit is None:
            raise
        return hit


def _event_replay(client_uuid: uuid.UUID | None, fingerprint: str) -> tuple[StockEvent, bool] | None:
    if client_uuid is None:
        return None
    event = StockEvent.objects.filter(client_uuid=client_uuid).first()
    if event is None:
        return None
    if event.detail.get("fingerprint") != fingerprint:
        raise VaxopsError("idempotency_conflict", {"client_uuid": str(client_uuid)})
    return event, True


def _lot_for_store(lot_number: str, store: Store | None = None) -> Lot:
    """The lot numbered ``lot_number`` (numbers are unique per product: when two products share
    one, the one this store holds)."""
    lots = list(Lot.objects.select_related("product").filter(lot_number=lot_number))
    if not lots:
        raise VaxopsError("lot_not_found", {"lot_number": lot_number})
    if len(lots) > 1 and store is not None:
        held = set(StockBalance.objects.filter(store=store, lot__in=lots, on_hand__gt=0).values_list("lot_id", flat=True))
        lots = [lot for lot in lots if lot.pk in held] or lots
    return lots[0]


def _usable_for_dispatch(lot: Lot, on: dt.date) -> None:
    if lot.status == LotStatus.QUARANTINED:
        raise VaxopsError("lot_quarantined", {"lot_number": lot.lot_number})
    if lot.status == LotStatus.RECALLED:
        raise VaxopsError("lot_recalled", {"lot_number": lot.lot_number})
    if lot.expiry_date < on:
        raise VaxopsError("lot_expired", {"lot_number": lot.lot_number, "expiry_date": lot.expiry_date.isoformat()})


def is_valid_route(from_store: Store, to_store: Store) -> bool:
    """A store sends to its children, to a sibling under the same parent (redistribution) or
    back to its parent (a return); nothing else (OpenLMIS valid sources and destinations)."""
    if from_store.pk == to_store.pk or not to_store.is_active:
        return False
    return (
        to_store.parent_id == from_store.pk
        or to_store.pk == from_store.parent_id
        or (from_store.parent_id is not None and to_store.parent_id == from_store.parent_id)
    )


def _pending_holds(store_id: int, lot_id: int, *, except_transfer: int | None = None,
                   except_event: int | None = None) -> bool:
    """Whether a delivery of this store × lot still waits for its temperature record."""
    transfers = TransferLine.objects.filter(
        transfer__to_store_id=store_id, transfer__status=TransferStatus.RECEIVED_ON_HOLD, lot_id=lot_id,
        accepted__gt=0,
    )
    if except_transfer is not None:
        transfers = transfers.exclude(transfer_id=except_transfer)
    if transfers.exists():
        return True
    receipts = StockEvent.objects.filter(
        reason__code="receipt", detail__on_hold=True, lines__store_id=store_id, lines__lot_id=lot_id,
        reversed_by__isnull=True,
    )
    if except_event is not None:
        receipts = receipts.exclude(pk=except_event)
    supplied = AuditEvent.objects.filter(action=RECEIPT_TEMPERATURE_ACTION, object_type="supply.stockevent")
    pending = set(receipts.values_list("pk", flat=True)) - {int(x) for x in supplied.values_list("object_id", flat=True)}
    return bool(pending)


def _release_if_clear(keys: Iterable[tuple[int, int]], **excluding: int) -> None:
    ledger.release_hold([k for k in keys if not _pending_holds(*k, **excluding)])


# --------------------------------------------------------------------------------------------
# stores


def create_store(*, code: str, name_zh: str, name_en: str = "", level: int, division_code: str,
                 site_code: str | None = None, parent_code: str | None = None,
                 equipment_class: str = "refrigerator", acting_user: Any, source: str) -> Store:
    """A new store in a division of the user's area (supply officers and admins; the system
    anywhere). The parent, when given, must be known; a site store belongs to its site."""
    from vaxops.sites.models import Site

    code = (code or "").strip()
    if not code or len(code) > 32 or not (name_zh or "").strip():
        raise VaxopsError("invalid_request", {"field": "code" if not code or len(code) > 32 else "name_zh"})
    with transaction.atomic(durable=True):
        if acting_user is None:
            division = Division.objects.filter(code=division_code).first()
            if division is None:
                raise VaxopsError("division_not_found", {"division_code": division_code})
        else:
            division = get_scoped(Division.objects.all(), acting_user, "stock.receive_shipment",
                                  not_found="division_not_found", detail={"division_code": division_code},
                                  code=division_code)
        if Store.objects.filter(code=code).exists():
            raise VaxopsError("store_exists", {"store": code})
        parent = None
        if parent_code:
            parent = Store.objects.filter(code=parent_code).first()
            if parent is None:
                raise VaxopsError("store_not_found", {"store": parent_code})
        site = None
        if site_code:
            site = Site.objects.filter(code=site_code).first()
            if site is None:
                raise VaxopsError("site_not_found", {"site_code": site_code})
        store = Store.objects.create(
            code=code, name_zh=name_zh.strip(), name_en=(name_en or "").strip(), level=level, division=division,
            county_code=division.county_code or "", site=site, parent=parent, equipment_class=equipment_class,
        )
        audit("store.create", store, actor=acting_user, source=source, county_code=store.county_code,
              after={"code": code, "level": level, "division": division_code, "site": site_code,
                     "parent": parent_code, "equipment_class": equipment_class})
    return store


# --------------------------------------------------------------------------------------------
# receipts from manufacturers


def receive_shipment(*, client_uuid: uuid.UUID, store_code: str, product_code: str, lot_number: str,
                     expiry_date: dt.date, doses: int, manufacturer: str = "", release_certificate: str = "",
                     arrival_temperature_c: float | None = None, occurred_at: dt.datetime | None = None,
                     document_number: str = "", acting_user: Any, source: str) -> tuple[StockEvent, bool]:
    """A manufacturer's delivery into a store (creates the lot when new). Returns (event,
    replayed). Missing arrival temperature → received on hold; outside 2–8 °C → refused.

    Checks: ``stock.receive_shipment`` at the store; doses > 0; the product known; a lot of that
    number, if known, is of the same product (``lot_wrong_product``); the lot not expired on the
    day of receipt (``lot_expired_on_receipt``); the temperature a possible reading. A lot not
    yet received anywhere takes the stated expiry, manufacturer, release certificate and the
    product's doses per vial; a known lot keeps its expiry and gains the fields it lacked.
    Locks the store × lot balance (``ledger.post``).
    """
    now = timezone.now()
    store = _store(store_code, acting_user, "stock.receive_shipment")
    doses = _doses(doses)
    when = _occurred(occurred_at, now)
    celsius = _temperature(arrival_temperature_c)
    manufacturer, release_certificate = (manufacturer or "").strip()[:120], (release_certificate or "").strip()[:64]
    fingerprint = _fingerprint("receipt", {
        "store": store.code, "product": product_code, "lot_number": lot_number, "expiry_date": str(expiry_date),
        "doses": doses, "manufacturer": manufacturer, "release_certificate": release_certificate,
        "arrival_temperature_c": str(celsius) if celsius is not None else None,
    })

    def write() -> tuple[StockEvent, bool]:
        hit = _event_replay(client_uuid, fingerprint)
        if hit is not None:
            return hit
        product = Product.objects.filter(code=product_code).first()
        if product is None:
            raise VaxopsError("product_not_found", {"product": product_code})
        if celsius is not None and not in_cold_chain(celsius):
            raise VaxopsError("arrival_temperature_out_of_range", {"celsius": str(celsius)})
        lot = _receipt_lot(product, lot_number, expiry_date, manufacturer, release_certificate)
        if lot.expiry_date < when.astimezone(TZ).date():
            raise VaxopsError("lot_expired_on_receipt",
                              {"lot_number": lot_number, "expiry_date": lot.expiry_date.isoformat()})
        on_hold = celsius is None
        event = ledger.post(
            [Line(store.pk, lot.pk, doses, "receipt")], reason="receipt", user=acting_user, occurred_at=when,
            document_number=document_number[:64], client_uuid=client_uuid, hold=True if on_hold else None,
            lot_numbers={lot.pk: lot.lot_number},
            detail={"fingerprint": fingerprint, "product": product.code, "lot_number": lot.lot_number,
                    "manufacturer": manufacturer, "release_certificate": release_certificate,
                    "expiry_date": str(expiry_date), "doses": doses, "on_hold": on_hold,
                    "arrival_temperature_c": str(celsius) if celsius is not None else None},
        )
        audit("stock.receipt", event, actor=acting_user, source=source, county_code=store.county_code,
              after={"store": store.code, "product": product.code, "lot_number": lot.lot_number, "doses": doses,
                     "on_hold": on_hold, "arrival_temperature_c": str(celsius) if celsius is not None else None})
        return event, False

    return _durably(write, lambda: _event_replay(client_uuid, fingerprint))


def _receipt_lot(product: Product, lot_number: str, expiry_date: dt.date, manufacturer: str,
                 release_certificate: str) -> Lot:
    lot_number = (lot_number or "").strip()
    if not lot_number or len(lot_number) > 40:
        raise VaxopsError("invalid_request", {"field": "lot_number"})
    others = list(Lot.objects.select_related("product").filter(lot_number=lot_number))
    lot = next((x for x in others if x.product_id == product.pk), None)
    if lot is None and others:
        raise VaxopsError("lot_wrong_product",
                          {"lot_number": lot_number, "lot_product": others[0].product.code, "product": product.code})
    if lot is None:
        lot, _ = Lot.objects.get_or_create(
            product=product, lot_number=lot_number,
            defaults={"expiry_date": expiry_date, "manufacturer": manufacturer, "doses_per_vial": product.doses_per_vial,
                      "release_certificate": release_certificate},
        )
        return lot
    changed: list[str] = []
    if not StockLine.objects.filter(lot=lot).exists():
        # A reference row never received: the first delivery's documents describe it.
        for field, value in (("expiry_date", expiry_date), ("doses_per_vial", product.doses_per_vial)):
            if getattr(lot, field) != value:
                setattr(lot, field, value)
                changed.append(field)
    for field, value in (("manufacturer", manufacturer), ("release_certificate", release_certificate)):
        if value and not getattr(lot, field):
            setattr(lot, field, value)
            changed.append(field)
    if changed:
        lot.save(update_fields=changed)
    return lot


# --------------------------------------------------------------------------------------------
# transfers and proof of delivery


def dispatch_transfer(*, client_uuid: uuid.UUID | None, from_store_code: str, to_store_code: str,
                      lines: Sequence[TransferLineIn], occurred_at: dt.datetime | None = None,
                      allocation=None, document_number: str = "", acting_user: Any, source: str,
                      ) -> tuple[Transfer, bool]:
    """Create a transfer and dispatch it at once (stock leaves the sender: in transit).
    Returns (transfer, replayed).

    Checks: ``stock.dispatch`` at the sending store; the receiving store known and on a valid
    route (``invalid_route``); at least one line, doses > 0, each lot once; each lot released
    and not expired on the day (``lot_quarantined``, ``lot_recalled``, ``lot_expired``); the
    sender's stock not on hold and enough on hand (``ledger.post``: ``stock_on_hold``,
    ``insufficient_stock``). Writes the transfer (status in transit), its lines and one
    ``transfer_out`` event at the sender naming the destination. Locks the sender's balances.
    """
    now = timezone.now()
    sender = _store(from_store_code, acting_user, "stock.dispatch")
    receiver = Store.objects.select_related("division").filter(code=to_store_code).first()
    if receiver is None:
        raise VaxopsError("store_not_found", {"store": to_store_code})
    if not is_valid_route(sender, receiver):
        raise VaxopsError("invalid_route", {"from_store": sender.code, "to_store": receiver.code})
    if not lines:
        raise VaxopsError("invalid_quantity", {"lines": 0})
    wanted = [(str(line.lot_number), _doses(line.doses)) for line in lines]
    numbers = [n for n, _ in wanted]
    if len(set(numbers)) != len(numbers):
        raise VaxopsError("duplicate_lot_in_event", {"lot_number": next(n for n in numbers if numbers.count(n) > 1)})
    when = _occurred(occurred_at, now)
    fingerprint = _fingerprint("transfer", {"from": sender.code, "to": receiver.code, "lines": sorted(wanted)})

    def replay() -> tuple[Transfer, bool] | None:
        if client_uuid is None:
            return None
        transfer = Transfer.objects.filter(client_uuid=client_uuid).first()
        if transfer is None:
            if StockEvent.objects.filter(client_uuid=client_uuid).exists():
                raise VaxopsError("idempotency_conflict", {"client_uuid": str(client_uuid)})
            return None
        dispatch = transfer.events.filter(reason__code="transfer_out").first()
        if dispatch is None or dispatch.detail.get("fingerprint") != fingerprint:
            raise VaxopsError("idempotency_conflict", {"client_uuid": str(client_uuid)})
        return transfer, True

    def write() -> tuple[Transfer, bool]:
        hit = replay()
        if hit is not None:
            return hit
        transfer = dispatch_within(sender=sender, receiver=receiver, wanted=wanted, when=when, now=now,
                                   client_uuid=client_uuid, allocation=allocation, document_number=document_number,
                                   fingerprint=fingerprint, acting_user=acting_user, source=source)
        return transfer, False

    return _durably(write, replay)


def dispatch_within(*, sender: Store, receiver: Store, wanted: Sequence[tuple[str, int]], when: dt.datetime,
                    now: dt.datetime, client_uuid: uuid.UUID | None, allocation=None, document_number: str = "",
                    fingerprint: str | None = None, acting_user: Any, source: str,
                    locked: dict | None = None) -> Transfer:
    """The writes of ``dispatch_transfer`` inside the caller's transaction (an approved
    allocation dispatches all its transfers in one): each lot usable on the day, the transfer in
    transit, its lines, one ``transfer_out`` event and the audit event. The caller has checked
    the user's right, the route and the lines; ``locked`` passes balances it already locked."""
    if fingerprint is None:
        fingerprint = _fingerprint("transfer", {"from": sender.code, "to": receiver.code, "lines": sorted(wanted)})
    day = when.astimezone(TZ).date()
    lots = []
    for number, doses in wanted:
        lot = _lot_for_store(number, sender)
        _usable_for_dispatch(lot, day)
        lots.append((lot, doses))
    transfer = Transfer.objects.create(
        client_uuid=client_uuid, from_store=sender, to_store=receiver, status=TransferStatus.IN_TRANSIT,
        created_at=now, created_by=acting_user if getattr(acting_user, "pk", None) else None,
        dispatched_at=when, allocation=allocation, document_number=document_number[:64],
    )
    TransferLine.objects.bulk_create([TransferLine(transfer=transfer, lot=lot, doses=d) for lot, d in lots])
    ledger.post(
        [Line(sender.pk, lot.pk, -d, "transfer_out", destination_store_id=receiver.pk) for lot, d in lots],
        reason="transfer_out", user=acting_user, occurred_at=when, document_number=document_number[:64],
        client_uuid=client_uuid, transfer=transfer, lot_numbers={lot.pk: lot.lot_number for lot, _ in lots},
        detail={"fingerprint": fingerprint, "to_store": receiver.code}, locked=locked,
    )
    audit("stock.transfer.dispatch", transfer, actor=acting_user, source=source, county_code=sender.county_code,
          after={"from_store": sender.code, "to_store": receiver.code, "status": transfer.status,
                 "lines": [{"lot_number": lot.lot_number, "doses": d} for lot, d in lots],
                 "allocation": allocation.pk if allocation is not None else None})
    return transfer


def _transfer_for(transfer_id: int, user: Any, action: str) -> Transfer:
    """The transfer, locked, if its receiving store is in the user's area for ``action``."""
    qs = Transfer.objects.select_for_update(of=("self",)).select_related(
        "from_store__division", "to_store__division")
    if user is None:
        transfer = qs.filter(pk=transfer_id).first()
        if transfer is None:
            raise VaxopsError("transfer_not_found", {"id": transfer_id})
        return transfer
    transfer = get_scoped(qs, user, action, not_found="transfer_not_found", detail={"id": transfer_id},
                          pk=transfer_id)
    # Seen from both ends, received only at the receiving one.
    _check_store(user, action, transfer.to_store, not_found="transfer_not_found", detail={"id": transfer_id})
    return transfer


def _rejection_reason(code: str | None, lot_number: str) -> StockReason:
    if not code:
        raise VaxopsError("rejection_reason_required", {"lot_number": lot_number})
    try:
        found = reason_by_code(code)
    except StockReason.DoesNotExist:
        raise VaxopsError("unknown_reason", {"reason": code}) from None
    # A rejection says what was wrong with the doses: a manual debit reason (broken, expired,
    # cold-chain failure, VVM discard, lost).
    if not (found.manual and found.type == ReasonType.DEBIT):
        raise VaxopsError("reason_not_allowed", {"reason": code})
    return found


def receive_transfer(*, transfer_id: int, lines: Sequence[ReceiptLineIn], arrival_temperature_c: float | None,
                     delivered_by: str = "", occurred_at: dt.datetime | None = None, acting_user: Any,
                     source: str) -> Transfer:
    """Proof of delivery: per line accepted + rejected = shipped; rejected doses go back to the
    sender's books (``dispatch_rejected``).

    Checks: ``stock.receive`` at the receiving store; the transfer in transit
    (``transfer_not_in_transit``); every shipped lot answered once and no other
    (``lot_not_in_transfer``, ``duplicate_lot_in_event``, ``delivery_does_not_add_up``); a
    rejection has a manual debit reason (``rejection_reason_required``, ``unknown_reason``,
    ``reason_not_allowed``); the arrival temperature a possible reading. Then:

    - arrival temperature in 2–8 °C: accepted doses credited at the receiver (``transfer_in``,
      source the sender), status received;
    - missing: the same, on hold (status received_on_hold) until ``supply_arrival_temperature``;
    - outside 2–8 °C: the whole transfer refused, every shipped dose back to the sender's books
      (``dispatch_rejected``, reason cold-chain failure on the lines), status refused.

    Rejected doses are credited back to the sender (``dispatch_rejected``, source the receiver).
    Locks the transfer row, then the balances.
    """
    now = timezone.now()
    _require(acting_user, "stock.receive")
    celsius = _temperature(arrival_temperature_c)
    when = _occurred(occurred_at, now)
    answers: dict[str, ReceiptLineIn] = {}
    for line in lines:
        number = str(line.lot_number)
        if number in answers:
            raise VaxopsError("duplicate_lot_in_event", {"lot_number": number})
        _doses(line.accepted, allow_zero=True)
        _doses(line.rejected, allow_zero=True)
        answers[number] = line

    def write() -> Transfer:
        transfer = _transfer_for(transfer_id, acting_user, "stock.receive")
        if transfer.status != TransferStatus.IN_TRANSIT:
            raise VaxopsError("transfer_not_in_transit", {"status": transfer.get_status_display(),
                                                          "status_code": transfer.status})
        shipped = {tl.lot.lot_number: tl for tl in transfer.lines.select_related("lot")}
        for number in answers:
            if number not in shipped:
                raise VaxopsError("lot_not_in_transfer", {"lot_number": number})
        decided: list[tuple[TransferLine, int, int, StockReason | None]] = []
        for number, tl in shipped.items():
            answer = answers.get(number)
            accepted, rejected = (answer.accepted, answer.rejected) if answer else (0, 0)
            if accepted + rejected != tl.doses:
                raise VaxopsError("delivery_does_not_add_up", {"lot_number": number, "accepted": accepted,
                                                               "rejected": rejected, "shipped": tl.doses})
            why = _rejection_reason(answer.rejection_reason, number) if rejected else None
            decided.append((tl, accepted, rejected, why))
        sender, receiver = transfer.from_store, transfer.to_store
        lot_numbers = {tl.lot_id: tl.lot.lot_number for tl in shipped.values()}
        refused = celsius is not None and not in_cold_chain(celsius)
        if refused:
            failure = reason_by_code("cold_chain_failure")
            decided = [(tl, 0, tl.doses, failure) for tl, _a, _r, _w in decided]
        accepted_lines = [Line(receiver.pk, tl.lot_id, a, "transfer_in", source_store_id=sender.pk)
                          for tl, a, _r, _w in decided if a]
        rejected_lines = [Line(sender.pk, tl.lot_id, r, "dispatch_rejected", source_store_id=receiver.pk)
                          for tl, _a, r, _w in decided if r]
        on_hold = celsius is None and bool(accepted_lines)
        detail = {"arrival_temperature_c": str(celsius) if celsius is not None else None}
        if accepted_lines:
            ledger.post(accepted_lines, reason="transfer_in", user=acting_user, occurred_at=when,
                        document_number=transfer.document_number, transfer=transfer, lot_numbers=lot_numbers,
                        hold=True if on_hold else None, detail={**detail, "on_hold": on_hold})
        if rejected_lines:
            ledger.post(rejected_lines, reason="dispatch_rejected", user=acting_user, occurred_at=when,
                        document_number=transfer.document_number, transfer=transfer, lot_numbers=lot_numbers,
                        detail={**detail, "refused": refused})
        for tl, a, r, why in decided:
            tl.accepted, tl.rejected, tl.rejection_reason = a, r, why
        TransferLine.objects.bulk_update([d[0] for d in decided], ["accepted", "rejected", "rejection_reason"])
        before = transfer.status
        transfer.status = (TransferStatus.REFUSED if refused else
                           TransferStatus.RECEIVED_ON_HOLD if on_hold else TransferStatus.RECEIVED)
        transfer.received_at = when
        transfer.received_by = acting_user if getattr(acting_user, "pk", None) else None
        transfer.delivered_by = (delivered_by or "").strip()[:120]
        transfer.arrival_temperature_c = celsius
        transfer.save(update_fields=["status", "received_at", "received_by", "delivered_by", "arrival_temperature_c"])
        audit("stock.transfer.receive", transfer, actor=acting_user, source=source, county_code=receiver.county_code,
              before={"status": before},
              after={"status": transfer.status, "arrival_temperature_c": detail["arrival_temperature_c"],
                     "lines": [{"lot_number": tl.lot.lot_number, "shipped": tl.doses, "accepted": a, "rejected": r,
                                "rejection_reason": why.code if why else None} for tl, a, r, why in decided]})
        return transfer

    with transaction.atomic(durable=True):
        return write()


def supply_arrival_temperature(*, transfer_id: int | None = None, arrival_temperature_c: float, acting_user: Any,
                               source: str, event_id: int | None = None) -> Transfer | StockEvent:
    """The missing temperature record of a transfer received on hold (or, with ``event_id``, of
    a manufacturer's receipt credited on hold): in range releases the hold; out of range writes
    the doses off as a cold-chain failure.

    The hold mark of a store × lot is cleared only when no other delivery of it still waits for
    its record. Returns the transfer (status received) or the receipt event. ``nothing_on_hold``
    when the delivery is not waiting for a record.
    """
    celsius = _temperature(arrival_temperature_c)
    if celsius is None:
        raise VaxopsError("temperature_out_of_range", {"celsius": None})
    if (transfer_id is None) == (event_id is None):
        raise VaxopsError("invalid_request", {"field": "transfer_id"})
    now = timezone.now()
    with transaction.atomic(durable=True):
        if event_id is not None:
            return _receipt_temperature(event_id, celsius, now, acting_user, source)
        transfer = _transfer_for(transfer_id, acting_user, "stock.receive")
        if transfer.status != TransferStatus.RECEIVED_ON_HOLD:
            raise VaxopsError("nothing_on_hold", {"id": transfer.pk, "status": transfer.status})
        receiver = transfer.to_store
        accepted = [(tl.lot_id, tl.accepted, tl.lot.lot_number)
                    for tl in transfer.lines.select_related("lot") if tl.accepted]
        keys = [(receiver.pk, lot_id) for lot_id, _d, _n in accepted]
        locked = ledger.lock(keys)
        written_off = _write_off(
            [(receiver.pk, lot_id, doses) for lot_id, doses, _n in accepted], locked, celsius, acting_user, now,
            transfer=transfer, lot_numbers={lot_id: n for lot_id, _d, n in accepted},
        )
        _release_if_clear(keys, except_transfer=transfer.pk)
        transfer.status = TransferStatus.RECEIVED
        transfer.arrival_temperature_c = celsius
        transfer.save(update_fields=["status", "arrival_temperature_c"])
        audit("stock.transfer.temperature", transfer, actor=acting_user, source=source,
              county_code=receiver.county_code, before={"status": TransferStatus.RECEIVED_ON_HOLD},
              after={"status": transfer.status, "arrival_temperature_c": str(celsius),
                     "written_off": written_off})
        return transfer


def _write_off(items: list[tuple[int, int, int]], locked, celsius: Decimal, user: Any, now: dt.datetime, *,
               transfer=None, lot_numbers=None) -> int:
    """Out of 2–8 °C: the doses of a held delivery written off as a cold-chain failure (at most
    what is still on hand). Returns the doses written off."""
    if in_cold_chain(celsius):
        return 0
    lines = []
    for store_id, lot_id, doses in items:
        take = min(doses, locked[(store_id, lot_id)].on_hand)
        if take:
            lines.append(Line(store_id, lot_id, -take, "cold_chain_failure"))
    if lines:
        ledger.post(lines, reason="cold_chain_failure", user=user, occurred_at=now, transfer=transfer,
                    locked=locked, lot_numbers=lot_numbers, detail={"arrival_temperature_c": str(celsius)})
    return -sum(line.quantity for line in lines)


def _receipt_temperature(event_id: int, celsius: Decimal, now: dt.datetime, user: Any, source: str) -> StockEvent:
    event = StockEvent.objects.select_for_update(of=("self",)).filter(pk=event_id, reason__code="receipt").first()
    if event is None:
        raise VaxopsError("event_not_found", {"id": event_id})
    lines = list(event.lines.select_related("store__division", "lot"))
    for line in lines:
        _check_store(user, "stock.receive_shipment", line.store, not_found="event_not_found", detail={"id": event_id})
    supplied = AuditEvent.objects.filter(action=RECEIPT_TEMPERATURE_ACTION, object_type="supply.stockevent",
                                         object_id=str(event.pk)).exists()
    if not event.detail.get("on_hold") or supplied or StockEvent.objects.filter(reverses=event).exists():
        raise VaxopsError("nothing_on_hold", {"id": event.pk})
    keys = [(line.store_id, line.lot_id) for line in lines]
    locked = ledger.lock(keys)
    written_off = _write_off([(line.store_id, line.lot_id, line.quantity) for line in lines], locked, celsius,
                             user, now, lot_numbers={line.lot_id: line.lot.lot_number for line in lines})
    # Recorded before the release so that this receipt no longer counts as pending.
    audit(RECEIPT_TEMPERATURE_ACTION, event, actor=user, source=source, county_code=lines[0].store.county_code,
          after={"arrival_temperature_c": str(celsius), "written_off": written_off})
    _release_if_clear(keys)
    return event


# --------------------------------------------------------------------------------------------
# adjustments, counts, reversals


def adjust_stock(*, client_uuid: uuid.UUID | None, store_code: str, lot_number: str, doses: int, reason: str,
                 note: str = "", occurred_at: dt.datetime | None = None, acting_user: Any,
                 source: str) -> tuple[StockEvent, bool]:
    """An adjustment (doses > 0, the reason gives the sign). Returns (event, replayed).

    Checks: ``stock.adjust`` at the store; the reason known (``unknown_reason``) and one offered
    for manual adjustments (``reason_not_allowed``): a credit reason adds, a debit reason takes
    away (not below zero: ``insufficient_stock``). Locks the store × lot balance.
    """
    now = timezone.now()
    store = _store(store_code, acting_user, "stock.adjust")
    doses = _doses(doses)
    when = _occurred(occurred_at, now)
    try:
        why = reason_by_code(reason)
    except StockReason.DoesNotExist:
        raise VaxopsError("unknown_reason", {"reason": str(reason)[:40]}) from None
    if not why.manual:
        raise VaxopsError("reason_not_allowed", {"reason": why.code})
    note = (note or "").strip()[:500]
    fingerprint = _fingerprint("adjustment", {"store": store.code, "lot_number": lot_number, "doses": doses,
                                              "reason": why.code})

    def write() -> tuple[StockEvent, bool]:
        hit = _event_replay(client_uuid, fingerprint)
        if hit is not None:
            return hit
        lot = _lot_for_store(lot_number, store)
        signed = doses if why.type == ReasonType.CREDIT else -doses
        event = ledger.post([Line(store.pk, lot.pk, signed, why.code)], reason=why.code, user=acting_user,
                            occurred_at=when, client_uuid=client_uuid, note=note,
                            lot_numbers={lot.pk: lot.lot_number}, detail={"fingerprint": fingerprint})
        audit("stock.adjust", event, actor=acting_user, source=source, county_code=store.county_code,
              after={"store": store.code, "lot_number": lot.lot_number, "quantity": signed, "reason": why.code,
                     "note": note})
        return event, False

    return _durably(write, lambda: _event_replay(client_uuid, fingerprint))


def count_stock(*, store_code: str, counts: dict[str, int], occurred_at: dt.datetime | None = None,
                acting_user: Any, source: str) -> StockEvent | None:
    """A physical count: lot number → doses counted; differences become count overage /
    shortage lines (None when every count agrees).

    Checks: ``stock.count`` at the store; each count a whole number ≥ 0; each lot known. Lots
    not counted are left as they are. The event keeps the counted and the book figures; the
    count is audited (on the store) even when every figure agrees. Locks the counted balances.
    """
    now = timezone.now()
    store = _store(store_code, acting_user, "stock.count")
    if not counts:
        raise VaxopsError("invalid_quantity", {"counts": 0})
    counted = {str(number): _doses(doses, allow_zero=True) for number, doses in counts.items()}
    when = _occurred(occurred_at, now)
    with transaction.atomic(durable=True):
        lots = {number: _lot_for_store(number, store) for number in counted}
        locked = ledger.lock((store.pk, lot.pk) for lot in lots.values())
        books = {number: locked[(store.pk, lot.pk)].on_hand for number, lot in lots.items()}
        lines = []
        for number, lot in lots.items():
            diff = counted[number] - books[number]
            if diff:
                lines.append(Line(store.pk, lot.pk, diff, "count_overage" if diff > 0 else "count_shortage"))
        event = None
        if lines:
            main = "count_shortage" if any(line.quantity < 0 for line in lines) else "count_overage"
            event = ledger.post(lines, reason=main, user=acting_user, occurred_at=when, locked=locked,
                                lot_numbers={lot.pk: n for n, lot in lots.items()},
                                detail={"counted": counted, "on_books": books})
        audit("stock.count", store, actor=acting_user, source=source, county_code=store.county_code,
              before={"on_books": books},
              after={"counted": counted, "event": event.pk if event else None})
    return event


# Which permission corrects which kind of event; transfers are corrected by proof of delivery
# and doses by voiding them, never by reversal.
_REVERSAL_PERMISSION = {
    ReasonCategory.RECEIPT: "stock.receive_shipment",
    ReasonCategory.ADJUSTMENT: "stock.adjust",
    ReasonCategory.STOCK_COUNT: "stock.count",
}


def reverse_event(*, event_id: int, note: str, acting_user: Any, source: str) -> StockEvent:
    """Correct a mistake: a new event with every line negated, naming the one it reverses.

    Only receipts, adjustments and counts are reversed (``reason_not_allowed`` otherwise, and
    for a reversal itself), each once (``event_already_reversed``), with a written note, by a
    user who could have made the event at every store it touched (``event_not_found``). The
    negated debits obey the ledger's rules (``insufficient_stock``). Locks the event row.
    """
    note = (note or "").strip()[:500]
    if not note:
        raise VaxopsError("reversal_note_required")
    if acting_user is not None and not getattr(acting_user, "is_authenticated", False):
        raise VaxopsError("not_authenticated")
    now = timezone.now()
    try:
        with transaction.atomic(durable=True):
            event = (StockEvent.objects.select_for_update(of=("self",)).select_related("reason")
                     .filter(pk=event_id).first())
            if event is None:
                raise VaxopsError("event_not_found", {"id": event_id})
            lines = list(event.lines.select_related("store__division", "lot", "reason"))
            action = _REVERSAL_PERMISSION.get(event.reason.category)
            for line in lines:
                _check_store(acting_user, action or "stock.adjust", line.store, not_found="event_not_found",
                             detail={"id": event_id})
            if action is None or event.reverses_id is not None:
                raise VaxopsError("reason_not_allowed", {"reason": event.reason.code})
            if StockEvent.objects.filter(reverses=event).exists():
                raise VaxopsError("event_already_reversed", {"id": event.pk})
            reversal = ledger.post(
                [Line(x.store_id, x.lot_id, -x.quantity, x.reason.code, x.source_store_id, x.destination_store_id)
                 for x in lines],
                reason=event.reason.code, user=acting_user, occurred_at=now, reverses=event, note=note,
                document_number=event.document_number, lot_numbers={x.lot_id: x.lot.lot_number for x in lines},
                detail={"reverses": event.pk},
            )
            if event.reason.code == "receipt" and event.detail.get("on_hold"):
                _release_if_clear([(x.store_id, x.lot_id) for x in lines], except_event=event.pk)
            audit("stock.reverse", reversal, actor=acting_user, source=source, county_code=lines[0].store.county_code,
                  after={"reverses": event.pk, "reason": event.reason.code, "note": note,
                         "lines": [{"store": x.store.code, "lot_number": x.lot.lot_number, "quantity": -x.quantity}
                                   for x in lines]})
    except IntegrityError:
        # A concurrent reversal of the same event won the unique index on ``reverses``.
        raise VaxopsError("event_already_reversed", {"id": event_id}) from None
    return reversal
