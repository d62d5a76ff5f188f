"""Usage and wastage rates and the wastage factor, per site, county and product (WHO).

The formulas are pure (``usage_rate``, ``wastage_rate``, ``wastage_factor``); ``wastage`` reads
the sums they need from the ledger's lines:

* administered = doses given (``administered`` debits) less the doses voided back
  (``dose_voided`` credits);
* wasted = the debits of every wastage reason (``StockReason.is_wastage``: open-vial wastage,
  broken, expired, cold-chain failure, VVM discard, lost, count shortage);
* issued = the doses that left stock for use = administered + wasted.

usage rate = administered ÷ issued × 100; wastage rate = 100 − usage rate; wastage factor =
100 ÷ (100 − wastage rate) (e.g. 10 % wastage → 1.11): the doses to supply per dose given.
"""

from __future__ import annotations

from dataclasses import dataclass


def usage_rate(administered: int, issued: int) -> float | None:
    """administered ÷ issued × 100 (None when nothing was issued)."""
    if issued <= 0:
        return None
    return administered / issued * 100


def wastage_rate(administered: int, issued: int) -> float | None:
    """100 − usage rate (None when nothing was issued)."""
    usage = usage_rate(administered, issued)
    return None if usage is None else 100 - usage


def wastage_factor(wastage_percent: float | None) -> float | None:
    """100 ÷ (100 − wastage %) (None when undefined: nothing issued, or everything wasted)."""
    if wastage_percent is None or wastage_percent >= 100:
        return None
    return 100 / (100 - wastage_percent)


@dataclass(frozen=True)
class Wastage:
    """The figures of one site, county or product."""

    key: str
    administered: int
    wasted: int

    @property
    def issued(self) -> int:
        return self.administered + self.wasted

    @property
    def usage_rate(self) -> float | None:
        return usage_rate(self.administered, self.issued)

    @property
    def wastage_rate(self) -> float | None:
        return wastage_rate(self.administered, self.issued)

    @property
    def wastage_factor(self) -> float | None:
        return wastage_factor(self.wastage_rate)

    def as_dict(self) -> dict:
        rate = self.wastage_rate
        factor = self.wastage_factor
        return {"key": self.key, "administered": self.administered, "wasted": self.wasted, "issued": self.issued,
                "usage_rate": None if rate is None else round(100 - rate, 2),
                "wastage_rate": None if rate is None else round(rate, 2),
                "wastage_factor": None if factor is None else round(factor, 3)}


GROUPS = {"site": "store__site__code", "county": "store__county_code", "product": "lot__product__code"}


def wastage(by: str, *, lines=None) -> list[Wastage]:
    """The figures per ``by`` ("site", "county" or "product") from the ledger's lines
    (``lines``: a StockLine queryset, e.g. restricted to an area; default all)."""
    from django.db.models import Sum

    from vaxops.supply.models import StockLine

    field = GROUPS[by]
    lines = StockLine.objects.all() if lines is None else lines
    given: dict[str, int] = {}
    lost: dict[str, int] = {}
    rows = (lines.filter(reason__code__in=("administered", "dose_voided")).exclude(**{f"{field}__isnull": True})
            .values_list(field).annotate(total=Sum("quantity")).order_by())
    for key, total in rows:
        given[key] = given.get(key, 0) - total
    rows = (lines.filter(reason__is_wastage=True, quantity__lt=0).exclude(**{f"{field}__isnull": True})
            .values_list(field).annotate(total=Sum("quantity")).order_by())
    for key, total in rows:
        lost[key] = lost.get(key, 0) - total
    return [Wastage(key, given.get(key, 0), lost.get(key, 0)) for key in sorted(set(given) | set(lost)) if key]
