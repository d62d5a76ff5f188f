"""Whole-database stock checks (``vaxops check-stock``): the ledger agrees with its balances,
with its transfer documents and with the dose records.

Three checks, each a handful of aggregate queries (no row-by-row scan in Python):

(a) **balances** — for every store × lot that has a balance row or a line: the balance's
    ``on_hand`` equals the sum of its lines, and is not below zero.

(b) **reconciliation** — for every store S and lot L (the DHIS2 / WHO closing-balance identity)::

        received = on_hand + issued + administered + wasted_and_adjusted

    where, with every sum taken over the signed lines of S × L (so a reversal counts against
    the reason it reverses):

    - ``received`` = Σ lines of the credit reasons: receipt, transfer_in, dispatch_rejected,
      returned, found, dose_voided, and count_overage;
    - ``on_hand`` is the balance row (not the lines);
    - ``issued`` is read from the *transfer documents*, not the lines: Σ shipped doses of every
      dispatched transfer from S with lot L — those still in transit, those delivered (accepted)
      and those rejected or refused (which came back as dispatch_rejected, counted in received);
    - ``administered`` = −Σ administered lines;
    - ``wasted_and_adjusted`` = −Σ lines of every other debit reason: broken, expired,
      cold_chain_failure, vvm_discard, lost, open_vial_wastage and count_shortage.

    Also from the documents: the transfer_in lines of S × L equal the doses accepted at S of
    transfers received (or received on hold), and the dispatch_rejected lines equal the doses
    rejected (or refused) of transfers from S.

(c) **doses** — for every (site, lot): the doses its store's ledger says were administered and
    not returned (−Σ administered − Σ dose_voided over the site's store) equal the count of
    valid ``DoseRecord`` rows of that site and lot (the dose path writes one administered debit
    per store × lot of each batch and a dose_voided credit when a dose is voided).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any

from django.db.models import Count, Sum

from vaxops.supply.models import (
    Lot,
    StockBalance,
    StockLine,
    Store,
    TransferLine,
    TransferStatus,
)

RECEIVED_REASONS = frozenset({"receipt", "transfer_in", "dispatch_rejected", "returned", "found", "dose_voided",
                              "count_overage"})
ISSUED_REASONS = frozenset({"transfer_out"})
ADMINISTERED_REASONS = frozenset({"administered"})
RECEIVED_AT_RECEIVER = (TransferStatus.RECEIVED, TransferStatus.RECEIVED_ON_HOLD)


@dataclass
class Discrepancy:
    check: str  # balances | reconciliation | transfers | doses
    store: str | None
    lot_number: str
    expected: int
    found: int
    what: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        where = f"{self.store} × {self.lot_number}" if self.store else f"site {self.detail.get('site')} × {self.lot_number}"
        return f"[{self.check}] {where}: {self.what}: expected {self.expected}, found {self.found}"


@dataclass
class Report:
    discrepancies: list[Discrepancy] = field(default_factory=list)
    balances_checked: int = 0
    store_lots_reconciled: int = 0
    site_lots_checked: int = 0

    @property
    def clean(self) -> bool:
        return not self.discrepancies

    def as_dict(self) -> dict[str, Any]:
        return {"clean": self.clean, "balances_checked": self.balances_checked,
                "store_lots_reconciled": self.store_lots_reconciled, "site_lots_checked": self.site_lots_checked,
                "discrepancies": [asdict(d) for d in self.discrepancies]}


def _sum_by(qs, *keys: str, value: str) -> dict[tuple, int]:
    return {tuple(row[k] for k in keys): row["n"] or 0 for row in qs.values(*keys).annotate(n=Sum(value))}


def check_stock() -> Report:
    """Run checks (a), (b) and (c) over the whole database (see the module docstring)."""
    report = Report()
    stores = dict(Store.objects.values_list("pk", "code"))
    lots = dict(Lot.objects.values_list("pk", "lot_number"))
    balances = {(s, lot): n for s, lot, n in StockBalance.objects.values_list("store_id", "lot_id", "on_hand")}
    by_reason = _sum_by(StockLine.objects, "store_id", "lot_id", "reason__code", value="quantity")
    line_sums: dict[tuple[int, int], int] = defaultdict(int)
    for (s, lot, _reason), n in by_reason.items():
        line_sums[(s, lot)] += n

    def add(check, key, expected, found, what, **detail):
        report.discrepancies.append(Discrepancy(check, stores.get(key[0]), lots.get(key[1], str(key[1])),
                                                expected, found, what, detail))

    # (a) balances = lines, never negative
    keys = set(balances) | set(line_sums)
    report.balances_checked = len(keys)
    for key in sorted(keys):
        on_hand, total = balances.get(key, 0), line_sums.get(key, 0)
        if on_hand != total:
            add("balances", key, total, on_hand, "balance differs from the sum of its lines")
        if on_hand < 0:
            add("balances", key, 0, on_hand, "balance below zero")

    # (b) received = on hand + issued + administered + wasted and adjusted; documents = lines
    parts: dict[tuple[int, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (s, lot, reason), n in by_reason.items():
        part = ("received" if reason in RECEIVED_REASONS else "issued_lines" if reason in ISSUED_REASONS
                else "administered" if reason in ADMINISTERED_REASONS else "wasted")
        parts[(s, lot)][part] += n
        parts[(s, lot)][f"line:{reason}"] += n
    dispatched = TransferLine.objects.exclude(transfer__status=TransferStatus.CREATED)
    shipped = _sum_by(dispatched, "transfer__from_store_id", "lot_id", value="doses")
    in_transit = _sum_by(dispatched.filter(transfer__status=TransferStatus.IN_TRANSIT),
                         "transfer__from_store_id", "lot_id", value="doses")
    accepted_in = _sum_by(dispatched.filter(transfer__status__in=RECEIVED_AT_RECEIVER),
                          "transfer__to_store_id", "lot_id", value="accepted")
    rejected_back = _sum_by(dispatched.exclude(transfer__status=TransferStatus.IN_TRANSIT),
                            "transfer__from_store_id", "lot_id", value="rejected")
    keys = set(parts) | set(balances) | set(shipped) | set(accepted_in)
    report.store_lots_reconciled = len(keys)
    for key in sorted(keys):
        p = parts.get(key, {})
        received, issued = p.get("received", 0), shipped.get(key, 0)
        administered, wasted = -p.get("administered", 0), -p.get("wasted", 0)
        on_hand = balances.get(key, 0)
        accounted = on_hand + issued + administered + wasted
        if received != accounted:
            add("reconciliation", key, received, accounted,
                "received ≠ on hand + issued + administered + wasted and adjusted",
                received=received, on_hand=on_hand, issued=issued, in_transit_out=in_transit.get(key, 0),
                administered=administered, wasted_and_adjusted=wasted)
        if -p.get("line:transfer_out", 0) != issued:
            add("transfers", key, issued, -p.get("line:transfer_out", 0), "transfer_out lines ≠ doses shipped")
        if p.get("line:transfer_in", 0) != accepted_in.get(key, 0):
            add("transfers", key, accepted_in.get(key, 0), p.get("line:transfer_in", 0),
                "transfer_in lines ≠ doses accepted")
        if p.get("line:dispatch_rejected", 0) != rejected_back.get(key, 0):
            add("transfers", key, rejected_back.get(key, 0), p.get("line:dispatch_rejected", 0),
                "dispatch_rejected lines ≠ doses rejected or refused")

    _check_doses(report, lots, by_reason)
    return report


def _check_doses(report: Report, lots: dict[int, str], by_reason: dict[tuple, int]) -> None:
    """(c) net administered per (site, lot) in the ledger = valid dose records."""
    from vaxops.sites.models import Site
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    site_of_store = dict(Store.objects.filter(site__isnull=False).values_list("pk", "site_id"))
    sites = dict(Site.objects.values_list("pk", "code"))
    ledger: dict[tuple[int, int], int] = defaultdict(int)
    for (s, lot, reason), n in by_reason.items():
        if reason in ("administered", "dose_voided"):
            site = site_of_store.get(s)
            ledger[(site, lot)] += -n
    records = {
        (row["site_id"], row["lot_id"]): row["n"]
        for row in DoseRecord.objects.filter(status=DoseStatus.VALID).values("site_id", "lot_id").annotate(n=Count("pk"))
    }
    keys = set(ledger) | set(records)
    report.site_lots_checked = len(keys)
    for site, lot in sorted(keys, key=lambda k: (k[0] or 0, k[1])):
        expected, found = records.get((site, lot), 0), ledger.get((site, lot), 0)
        if expected != found:
            report.discrepancies.append(Discrepancy(
                "doses", None, lots.get(lot, str(lot)), expected, found,
                "valid dose records ≠ doses administered in the ledger (net of voids)",
                {"site": sites.get(site, "(a store without a site)")}))
