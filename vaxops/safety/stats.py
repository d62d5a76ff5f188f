"""AEFI counts for a division: reported, serious, overdue, and the rate per 100,000 doses, in
total, by product and by lot (the dashboard panel, the list page and ``GET /api/v1/aefi/stats``).

Reports are counted where they are placed (the site of the dose) within the user's area; doses
are the valid doses given at the sites of the same division subtree, read from the dose
counters (``campaign.DoseCounter``) in total and by product, and from the dose records only
for the few lots that have reports.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q, Sum
from django.utils import timezone

from vaxops.access.scope import restrict
from vaxops.safety.models import AefiReport, AefiStatus


def per_100000(count: int, doses: int) -> float | None:
    """Reports per 100,000 doses, to one decimal (``None`` without doses)."""
    return round(count * 100_000 / doses, 1) if doses else None


def reports_in(division: Any, user: Any) -> Any:
    """The reports of ``division``'s subtree the user may see."""
    return restrict(AefiReport.objects.all(), user, "aefi.view").filter(division__path__startswith=division.path)


def overdue_filter(now: dt.datetime) -> Q:
    return Q(status=AefiStatus.REPORTED, report_due_by__lt=now)


def aefi_stats(division: Any, *, user: Any, now: dt.datetime | None = None) -> dict[str, Any]:
    from vaxops.campaign.models import DoseCounter
    from vaxops.catalog.models import Product
    from vaxops.supply.models import Lot
    from vaxops.vaccination.models import DoseRecord, DoseStatus

    now = now or timezone.now()
    reports = reports_in(division, user)
    totals = reports.aggregate(reported=Count("pk"), serious=Count("pk", filter=Q(serious=True)),
                               overdue=Count("pk", filter=overdue_filter(now)))
    counters = DoseCounter.objects.filter(path__startswith=division.path)
    doses = counters.aggregate(n=Sum("count"))["n"] or 0
    doses_by_product = dict(counters.values_list("product_code").annotate(n=Sum("count")).order_by())
    names = {p.code: p.name for p in Product.objects.all()}
    by_product_rows = (reports.filter(product__isnull=False).values_list("product__code")
                       .annotate(n=Count("pk"), s=Count("pk", filter=Q(serious=True))).order_by())
    by_product = sorted(
        ({"product": code, "product_name": names.get(code, code), "reported": n, "serious": s,
          "doses": doses_by_product.get(code, 0), "per_100000": per_100000(n, doses_by_product.get(code, 0))}
         for code, n, s in by_product_rows),
        key=lambda row: (-row["reported"], row["product"]),
    )
    lot_rows = list(reports.filter(lot__isnull=False).values_list("lot_id")
                    .annotate(n=Count("pk"), s=Count("pk", filter=Q(serious=True))).order_by())
    lot_ids = [row[0] for row in lot_rows]
    lot_doses = dict(
        DoseRecord.objects.filter(lot_id__in=lot_ids, status=DoseStatus.VALID,
                                  division__path__startswith=division.path)
        .values_list("lot_id").annotate(n=Count("pk")).order_by()
    )
    lots = {x.pk: x for x in Lot.objects.select_related("product").filter(pk__in=lot_ids)}
    by_lot = sorted(
        ({"lot_number": lots[lot_id].lot_number, "product": lots[lot_id].product.code,
          "product_name": names.get(lots[lot_id].product.code, ""), "status": lots[lot_id].status,
          "reported": n, "serious": s, "doses": lot_doses.get(lot_id, 0),
          "per_100000": per_100000(n, lot_doses.get(lot_id, 0))}
         for lot_id, n, s in lot_rows),
        key=lambda row: (-row["reported"], row["lot_number"]),
    )
    return {
        "division": division.code, "reported": totals["reported"], "serious": totals["serious"],
        "overdue": totals["overdue"], "doses": doses, "per_100000": per_100000(totals["reported"], doses),
        "serious_per_100000": per_100000(totals["serious"], doses), "by_product": by_product, "by_lot": by_lot,
    }


def session_figures(session: Any) -> dict[str, Any]:
    """The AEFI counts of one session (for its closing figures): reports after its doses."""
    reports = AefiReport.objects.filter(dose__session=session)
    counts = reports.aggregate(n=Count("pk"), s=Count("pk", filter=Q(serious=True)))
    return {"aefi_reported": counts["n"], "aefi_serious": counts["s"]}
