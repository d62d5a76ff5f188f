"""The demo's daily report: the prefecture's report of 2021-06-01 at 19:00, issued through
``reports.services.issue_daily_report`` as the prefecture command would issue it half an hour
after the cut-off, so its figures are frozen and downloadable (page, API, ``vaxops daily-report``).

Its sentence reads as the one published (甘孜日报, 2021-06-03): 截至6月1日19时，全州累计接种新冠病毒
疫苗373657剂次，其中第一剂330123人，第二剂43534人 (at full scale; scaled figures otherwise).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model

from vaxops.core.models import Source

if TYPE_CHECKING:  # pragma: no cover
    from vaxops.campaign.demo import DemoBuilder

DIVISION = "513300"
CUTOFF = "19:00"
# Issued half an hour after the cut-off, on the evening of the report.
ISSUED_AFTER = dt.timedelta(minutes=30)


def build(builder: DemoBuilder, admin: Any) -> None:
    from vaxops.campaign.demo import REPORT_AT
    from vaxops.reports.services import issue_daily_report

    issuer = get_user_model().objects.filter(username="prefecture_command").first() or admin
    report = issue_daily_report(division_code=DIVISION, day=REPORT_AT.date(), cutoff=CUTOFF, acting_user=issuer,
                                source=Source.CLI, now=REPORT_AT + ISSUED_AFTER)
    doc = report.content["zh-hans"]
    figures = report.figures["cumulative"]
    builder.report.later["reports"] = {
        "division": DIVISION, "date": REPORT_AT.date().isoformat(), "cutoff": CUTOFF, "sha256": report.sha256,
        "doses_total": figures["doses_total"], "first_dose_people": figures["first_dose_people"],
        "second_dose_people": figures["second_dose_people"], "sentence": doc["sentence"],
    }
    builder.clock.done("reports", f"the prefecture's daily report of {REPORT_AT.date()} {CUTOFF} issued "
                                  f"({figures['doses_total']:,} doses; sha256 {report.sha256[:12]})")
