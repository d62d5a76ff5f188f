"""The daily report's section "targets" (order 60), with the sentence clause
"全州已提前完成上半年第1剂次接种目标任务" when the division's own first-dose target was met
ahead of schedule."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from vaxops.campaign.report import area_word
from vaxops.reports.sections import ReportContext, Section

from .labels import base_words, day_words, status_words, target_name
from .models import Metric
from .services import progress_items


def met_ahead_clause(division: Any, items: list[dict[str, Any]]) -> str:
    """The report's clause for the division's own first-dose targets met ahead of schedule
    (the earliest due first), or ""."""
    met = sorted((i for i in items if not i["is_child"] and i["met_ahead"]
                  and i["metric"] == Metric.FIRST_DOSE_PEOPLE), key=lambda i: i["due"])
    if not met:
        return ""
    # Translators: a clause of the daily report. Chinese: %(area)s已提前完成%(target)s任务
    # (全州已提前完成上半年第1剂次接种目标任务), where %(target)s is the target's name.
    return _("%(area)s has met its %(target)s ahead of schedule") % {
        "area": str(area_word(division).text), "target": target_name(met[0]["metric"], met[0]["due"])}


def targets_section(ctx: ReportContext) -> Section | None:
    """The division's targets and its children's (ranked) at the report's cut-off."""
    items = progress_items(ctx.division, ctx.cutoff, None)
    if not items:
        return None
    rows = [[
        i["division_name"], target_name(i["metric"], i["due"]), base_words(i["base"]), i["target"], i["achieved"],
        i["percent"], i["expected_by_now"], i["ahead_by"], i["ahead_days"], day_words(i["projected_date"]),
        status_words(i["status"]), i["rank"],
    ] for i in items]
    figures = {"items": [{**i, "starts": i["starts"].isoformat(), "due": i["due"].isoformat(),
                          "projected_date": i["projected_date"].isoformat() if i["projected_date"] else None,
                          "met_on": i["met_on"].isoformat() if i["met_on"] else None} for i in items]}
    return Section(
        key="targets", title=_("Targets and progress"),
        columns=[_("Division"), _("Target"), _("Population base"), _("Target (people or doses)"), _("Achieved"),
                 _("Percent done"), _("Expected by now"), _("Ahead (+) / behind (−)"), _("Days ahead (+) / behind (−)"),
                 _("Projected date"), _("Status"), _("Rank")],
        rows=rows, figures=figures, sentence=met_ahead_clause(ctx.division, items),
    )
