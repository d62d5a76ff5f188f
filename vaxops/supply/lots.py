"""Quarantine, recall and release of lots, and a lot's trace (docs/supply.md).

A lot's status is one fact for the whole installation: a supervisor (``lot.quarantine``) sets
it with a written reason, in one durable transaction with its audit event. Nothing in any
process keeps lots in memory, so the change holds from the very next dose and transfer:

- the dose path reads the lots of each batch fresh (``vaccination.batch_engine.read_lots``)
  and refuses ``lot_quarantined`` / ``lot_recalled``; a batch that read its lots before the
  change committed may still commit (the bound is one batch in flight per process, from its
  lot read to its commit);
- every transfer out goes through ``ledger.post``, which reads the status of its lots after
  locking their balances; the change locks the same balances on PostgreSQL (SQLite serialises
  writers anyway), so a dispatch either commits before the change or sees it.

The trace reads stock from the ledger (lines, balances, transfers in transit) and recipients
from the dose records, both limited to the user's area through ``access.scope``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from vaxops.access.scope import can, require, restrict
from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.registry.idnumber import mask_id_number
from vaxops.supply.models import (
    Lot,
    LotStatus,
    StockBalance,
    StockLine,
    Store,
    Transfer,
    TransferLine,
    TransferStatus,
)

REASON_MAX = 500  # Lot.status_reason
RECIPIENTS_PAGE_MAX = 500


# --- pure rules --------------------------------------------------------------------------------


def _is_han(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("CJK")


def mask_name(name: str) -> str:
    """A person's name as a recall list shows it: enough to confirm, not to identify.

    Chinese names keep the first and the last character (张三 → 张*, 张小三 → 张*三,
    欧阳小峰 → 欧**峰); other names keep only their first letter (Tashi Dorje → T*).
    """
    text = (name or "").strip()
    if not text:
        return ""
    if _is_han(text[0]):
        chars = [c for c in text if not c.isspace()]
        if len(chars) == 1:
            return "*"
        if len(chars) == 2:
            return chars[0] + "*"
        return chars[0] + "*" * (len(chars) - 2) + chars[-1]
    return text[0] + "*"


_GS1_FIXED = {"00": 18, "01": 14, "02": 14, "11": 6, "12": 6, "13": 6, "15": 6, "16": 6, "17": 6}
_GS = "\x1d"


def lot_number_from_scan(text: str) -> str:
    """The lot number in what a person typed or a scanner sent.

    A plain lot number comes back as it is (trimmed, upper case). A GS1 code from a vaccine
    box (human-readable ``(01)…(17)…(10)LOT`` or the raw scanner string, with or without its
    ``]d2``/``]C1`` prefix and group separators) gives its application identifier 10, the lot.
    """
    raw = (text or "").strip()
    for prefix in ("]d2", "]C1", "]Q3"):
        if raw.startswith(prefix):
            raw = raw[len(prefix):]
    bracketed = re.search(r"\(10\)([^()\x1d]+)", raw)
    if bracketed:
        return bracketed.group(1).strip().upper()
    if re.fullmatch(r"0[12]\d{14}.+", raw, flags=re.S):
        rest = raw
        while len(rest) >= 2:
            ai = rest[:2]
            if ai in _GS1_FIXED:
                rest = rest[2 + _GS1_FIXED[ai]:].lstrip(_GS)
                continue
            if ai in ("10", "21"):
                value, _sep, rest = rest[2:].partition(_GS)
                if ai == "10":
                    return value.strip().upper()
                continue
            break
    return raw.replace(_GS, "").upper()


# --- finding a lot -----------------------------------------------------------------------------


def find_lot(lot_number: str, product_code: str | None = None, *, for_update: bool = False) -> Lot:
    """The lot ``lot_number`` (of ``product_code`` when given), or ``lot_not_found`` (404).

    One lot number used by two products needs the product: ``lot_product_required`` names
    them. Lots are product-wide reference data, not placed in an area (``access.scope``).
    """
    number = (lot_number or "").strip()
    qs = Lot.objects.select_related("product").filter(lot_number=number)
    if product_code:
        qs = qs.filter(product__code=product_code.strip())
    if for_update:
        qs = qs.select_for_update(of=("self",))
    lots = list(qs.order_by("product__code")[:10])
    if not lots:
        detail: dict[str, Any] = {"lot_number": number}
        if product_code:
            detail["product"] = product_code
        raise VaxopsError("lot_not_found", detail, status=404)
    if len(lots) > 1:
        raise VaxopsError("lot_product_required",
                          {"lot_number": number, "shared_products": [x.product.code for x in lots]})
    return lots[0]


# --- status changes ----------------------------------------------------------------------------


def _change_status(*, to: str, action: str, lot_number: str, reason: str, product_code: str | None,
                   acting_user: Any, source: str) -> Lot:
    require(acting_user, "lot.quarantine")
    text = (reason or "").strip()
    if not text:
        raise VaxopsError("lot_status_reason_required")
    if len(text) > REASON_MAX:
        raise VaxopsError("lot_status_reason_too_long", {"limit": REASON_MAX})
    with transaction.atomic(durable=True):
        lot = find_lot(lot_number, product_code, for_update=True)
        if lot.status == to:
            raise VaxopsError("lot_status_unchanged", {
                "lot_number": lot.lot_number, "status": LotStatus(to).label, "status_code": to,
            })
        if connection.vendor == "postgresql":
            # Wait for the transfers and doses drawing on this lot right now (they hold these
            # balances, locked in (store, lot) order as ledger.lock does): each one commits
            # before the change, and every later one reads the new status.
            list(StockBalance.objects.filter(lot=lot).select_for_update().order_by("store_id", "lot_id")
                 .values_list("pk", flat=True))
        before = {"status": lot.status, "status_reason": lot.status_reason}
        lot.status = to
        lot.status_reason = text
        lot.status_changed_at = timezone.now()
        lot.save(update_fields=["status", "status_reason", "status_changed_at"])
        audit(action, lot, actor=acting_user, source=source, before=before,
              after={"status": to, "status_reason": text, "product": lot.product.code,
                     "lot_number": lot.lot_number})
    return lot


def quarantine_lot(*, lot_number: str, reason: str, product_code: str | None = None, acting_user: Any,
                   source: str) -> Lot:
    """Stop every use of the lot while it is examined: no dose, no transfer out, until released.

    Locks the lot row and (PostgreSQL) its balances; one audit event ``lot.quarantine``.
    Refuses ``lot_status_reason_required``, ``lot_status_unchanged``, ``lot_not_found``,
    ``lot_product_required`` (a number two products share, without the product).
    """
    return _change_status(to=LotStatus.QUARANTINED, action="lot.quarantine", lot_number=lot_number,
                          reason=reason, product_code=product_code, acting_user=acting_user, source=source)


def recall_lot(*, lot_number: str, reason: str, product_code: str | None = None, acting_user: Any,
               source: str) -> Lot:
    """Withdraw the lot: as a quarantine (no dose, no transfer out), and its recipients are
    to be told (``recipients``). Same locks, refusals and one audit event ``lot.recall``."""
    return _change_status(to=LotStatus.RECALLED, action="lot.recall", lot_number=lot_number,
                          reason=reason, product_code=product_code, acting_user=acting_user, source=source)


def release_lot(*, lot_number: str, reason: str, product_code: str | None = None, acting_user: Any,
                source: str) -> Lot:
    """Let a quarantined or recalled lot be used again (the reason says what was found).
    Same locks, refusals and one audit event ``lot.release``."""
    return _change_status(to=LotStatus.RELEASED, action="lot.release", lot_number=lot_number,
                          reason=reason, product_code=product_code, acting_user=acting_user, source=source)


# --- the trace ---------------------------------------------------------------------------------


def _county_names(codes: Iterable[str]) -> dict[str, str]:
    from vaxops.regions.models import Division

    return {d.code: d.name for d in Division.objects.filter(code__in=set(codes))}


def _reached(lot: Lot, user: Any, action: str) -> bool:
    """Whether the lot has any stock record or dose in the user's area for ``action``."""
    from vaxops.vaccination.models import DoseRecord

    return (
        restrict(StockLine.objects.filter(lot=lot), user, action).exists()
        or restrict(DoseRecord.objects.filter(lot=lot), user, action).exists()
    )


def trace(lot_number: str, *, user: Any, product_code: str | None = None) -> dict[str, Any]:
    """Where a lot's doses went, within the user's area (``lot.trace``).

    ``received``: receipts from manufacturers into the area's stores, plus transfers into the
    area from stores outside it (for a user who sees everything: the receipts alone);
    ``in_transit``: doses of the lot in transfers in transit from or to the area's stores;
    ``on_hand``: the balances; ``administered``: − (administered lines + dose-voided credits);
    ``wasted``: − the lines of wastage reasons (``StockReason.is_wastage``). Per store,
    ``received`` is what arrived at that store (receipts and transfers in). ``dose_records``
    counts the valid dose rows of the lot in the area (it equals ``administered`` when every
    dose drew down its stock). Out of area (no record of the lot there): ``lot_not_in_area``.
    """
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    require(user, "lot.trace")
    lot = find_lot(lot_number, product_code)
    if not _reached(lot, user, "lot.trace"):
        raise VaxopsError("lot_not_in_area", {"lot_number": lot.lot_number})

    lines = restrict(StockLine.objects.filter(lot=lot), user, "lot.trace")
    per: dict[int, dict[str, int]] = {}
    received_total = 0
    area_stores = set(restrict(Store.objects.all(), user, "lot.trace").values_list("pk", flat=True))
    rows = (lines.values("store_id", "reason__code", "reason__is_wastage", "source_store_id")
            .annotate(total=Sum("quantity")).order_by())
    for r in rows:
        f = per.setdefault(r["store_id"], {"received": 0, "administered": 0, "wasted": 0})
        code, total = r["reason__code"], r["total"] or 0
        if code in ("administered", "dose_voided"):
            f["administered"] -= total
        elif r["reason__is_wastage"]:
            f["wasted"] -= total
        elif code in ("receipt", "transfer_in"):
            f["received"] += total
            if code == "receipt" or r["source_store_id"] not in area_stores:
                received_total += total
    balances = dict(
        restrict(StockBalance.objects.filter(lot=lot), user, "lot.trace")
        .values_list("store_id").annotate(total=Sum("on_hand")).order_by()
    )
    transfers = restrict(Transfer.objects.filter(status=TransferStatus.IN_TRANSIT), user, "lot.trace")
    in_transit = (TransferLine.objects.filter(lot=lot, transfer__in=transfers)
                  .aggregate(total=Sum("doses"))["total"] or 0)
    stores = Store.objects.filter(pk__in=set(per) | set(balances)).order_by("level", "code")
    store_rows = []
    for s in stores:
        f = per.get(s.pk, {"received": 0, "administered": 0, "wasted": 0})
        store_rows.append({
            "code": s.code, "name": s.name, "level": s.level, "county_code": s.county_code,
            "received": f["received"], "on_hand": balances.get(s.pk, 0),
            "administered": f["administered"], "wasted": f["wasted"],
        })
    doses = restrict(DoseRecord.objects.filter(lot=lot, status=DoseStatus.VALID), user, "lot.trace")
    by_county = list(doses.values("county_code").annotate(count=Count("pk")).order_by("county_code"))
    names = _county_names(r["county_code"] for r in by_county)
    return {
        "lot_number": lot.lot_number,
        "product": lot.product.code,
        "product_name": lot.product.name,
        "manufacturer": lot.manufacturer,
        "expiry_date": lot.expiry_date,
        "status": lot.status,
        "status_reason": lot.status_reason,
        "status_changed_at": lot.status_changed_at,
        "received": received_total,
        "in_transit": in_transit,
        "on_hand": sum(balances.values()),
        "administered": sum(r["administered"] for r in store_rows),
        "wasted": sum(r["wasted"] for r in store_rows),
        "dose_records": sum(r["count"] for r in by_county),
        "stores": store_rows,
        "recipients_by_county": [
            {"county_code": r["county_code"], "county_name": names.get(r["county_code"], r["county_code"]),
             "count": r["count"]}
            for r in by_county
        ],
        "_lot": lot,
    }


# --- the recipients ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    """One valid dose of the lot as a recall list shows it."""

    name: str
    id_number: str
    phone: str
    county_code: str
    county_name: str
    site_code: str
    site_name: str
    administered_on: dt.date
    dose_number: int


def recipients(lot_number: str, *, user: Any, product_code: str | None = None) -> tuple[Lot, QuerySet]:
    """The lot and its valid doses in the user's area (``lot.recipients``), by county, then
    time of the dose. Out of area: ``lot_not_in_area``."""
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    require(user, "lot.recipients")
    lot = find_lot(lot_number, product_code)
    if not _reached(lot, user, "lot.recipients"):
        raise VaxopsError("lot_not_in_area", {"lot_number": lot.lot_number})
    doses = restrict(DoseRecord.objects.filter(lot=lot, status=DoseStatus.VALID), user, "lot.recipients")
    return lot, doses.select_related("person", "site").order_by("county_code", "administered_at", "pk")


def recipient_rows(doses: Iterable) -> list[Recipient]:
    doses = list(doses)
    names = _county_names(d.county_code for d in doses)
    return [
        Recipient(
            name=mask_name(d.person.name), id_number=mask_id_number(d.person.id_number), phone=d.person.phone,
            county_code=d.county_code, county_name=names.get(d.county_code, d.county_code),
            site_code=d.site.code, site_name=d.site.name, administered_on=timezone.localtime(d.administered_at).date(),
            dose_number=d.dose_number,
        )
        for d in doses
    ]


def log_recipients_read(lot: Lot, *, user: Any, source: str, fmt: str, count: int) -> None:
    """Audit a read of the recipients (phones in full): one event per list or export."""
    with transaction.atomic(durable=True):
        audit("lot.recipients_export" if fmt == "csv" else "lot.recipients_view", lot, actor=user,
              source=source, after={"lot_number": lot.lot_number, "product": lot.product.code, "format": fmt,
                                    "rows": count})


def recipients_csv(rows: Iterable[Recipient]) -> bytes:
    """The recall list as CSV: UTF-8 with BOM (spreadsheets open it as UTF-8), every cell a
    spreadsheet could run as a formula written as text."""
    from vaxops.interop.reading import spreadsheet_safe

    out = io.StringIO(newline="")
    writer = csv.writer(out)
    for row in _csv_rows(rows):
        writer.writerow([spreadsheet_safe(c) for c in row])
    return b"\xef\xbb\xbf" + out.getvalue().encode("utf-8")


def _csv_rows(rows: Iterable[Recipient]) -> Iterator[list[Any]]:
    from vaxops.core.formats import format_date

    yield [_("Name"), _("ID number"), _("Phone"), _("County code"), _("County"), _("Site code"), _("Site"),
           _("Date of the dose"), _("Dose number")]
    for r in rows:
        yield [r.name, r.id_number, r.phone, r.county_code, r.county_name, r.site_code, r.site_name,
               format_date(r.administered_on), r.dose_number]


def may_see_recipients(user: Any) -> bool:
    return can(user, "lot.recipients")


__all__ = [
    "Recipient", "find_lot", "lot_number_from_scan", "mask_name", "quarantine_lot", "recall_lot",
    "recipient_rows", "recipients", "recipients_csv", "release_lot", "trace",
]
