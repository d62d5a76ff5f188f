"""The daily report (日报) of a division for a day at a cut-off hour: its context, its late
entries (补报) against the last issued report, and the document the API, the xlsx file and the
printable page all render.

A report is read as administered by the cut-off (``campaign.services.summary``'s default
clock: doses given by then, whenever entered), the figures a health commission publishes. Once
issued (``reports.services.issue_daily_report``) it is frozen; a dose entered later for a period
already reported changes the live figures of that moment but never the issued report: the next
report shows it as a late entry.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from vaxops.campaign import services as campaign
from vaxops.campaign.report import grouped, report_sentence, report_time
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date
from vaxops.regions.models import Division
from vaxops.reports import figures as own
from vaxops.reports.models import IssuedReport
from vaxops.reports.sections import ReportContext, Section, contributed

DEFAULT_CUTOFF = "19:00"
_CUTOFF = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$", re.ASCII)


def campaign_start() -> dt.date:
    return dt.date.fromisoformat(settings.VAXOPS_CAMPAIGN_START)


def parse_cutoff(value: str | None) -> tuple[int, int]:
    """"HH:MM" (00:00–23:59, or 24:00: the end of the day, as reports write 24时) → (hour, minute)."""
    text = (value or "").strip() or DEFAULT_CUTOFF
    if text == "24:00":
        return 24, 0
    match = _CUTOFF.match(text)
    if match is None:
        raise VaxopsError("report_invalid_cutoff", {"cutoff": text[:20]})
    return int(match[1]), int(match[2])


def cutoff_text(hour: int, minute: int) -> str:
    return f"{hour:02d}:{minute:02d}"


def report_context(division: Division, day: dt.date, cutoff: str | None = None, *, user: Any = None,
                   now: dt.datetime | None = None) -> ReportContext:
    """The context of ``division``'s report for ``day`` at ``cutoff`` (default 19:00), refused
    for a day before the campaign's start or a cut-off still to come."""
    hour, minute = parse_cutoff(cutoff)
    now = (now or timezone.now()).astimezone(campaign.TZ)
    start_day = campaign_start()
    if day < start_day:
        raise VaxopsError("report_before_campaign", {"date": day.isoformat(), "campaign_start": start_day.isoformat()})
    if day > now.date():
        raise VaxopsError("report_cutoff_in_future", {"cutoff": f"{day.isoformat()} {cutoff_text(hour, minute)}"})
    start = dt.datetime.combine(day, dt.time.min, tzinfo=campaign.TZ)
    moment = start + dt.timedelta(hours=hour, minutes=minute)
    if moment > now:
        raise VaxopsError("report_cutoff_in_future", {"cutoff": f"{day.isoformat()} {cutoff_text(hour, minute)}"})
    return ReportContext(division=division, day=day, start=start, cutoff=moment, user=user)


def previous_report(ctx: ReportContext) -> IssuedReport | None:
    """The division's last report issued with a cut-off before this one's."""
    return (IssuedReport.objects.filter(division=ctx.division, cutoff__lt=ctx.cutoff)
            .order_by("-cutoff").first())


def _signed(n: int) -> str:
    return ("+" if n > 0 else "") + grouped(n)


def late_entries_section(f: own.Figures) -> Section:
    """补报: what changed, since it was issued, in the figures of the last report issued before
    this one (doses entered late for its period, less any voided): live figures at its cut-off
    minus its frozen figures. The cumulative figures of this report include them."""
    previous = previous_report(f.ctx)
    columns = [_("Figure"), _("As issued"), _("Now"), _("Late entries")]
    title = _("Late entries (补报) for the previous report")
    if previous is None:
        return Section(key="late_entries", title=title, columns=columns, rows=[],
                       figures={"previous": None, "late": dict.fromkeys(own.METRICS, 0)})
    live = campaign.summary(f.ctx.division, previous.cutoff)
    frozen = previous.figures["cumulative"]
    late = {m: live[m] - frozen[m] for m in own.METRICS}
    since = {m: f.cumulative[m] - live[m] for m in own.METRICS}
    at = report_time(previous.cutoff.astimezone(campaign.TZ), today=previous.day)
    sentence = ""
    if any(late.values()):
        sentence = ngettext(
            "Late entries (补报) for the report of %(time)s: %(doses)s dose (first dose %(first)s people, "
            "second dose %(second)s people).",
            "Late entries (补报) for the report of %(time)s: %(doses)s doses (first dose %(first)s people, "
            "second dose %(second)s people).",
            abs(late["doses_total"]),
        ) % {"time": at, "doses": _signed(late["doses_total"]), "first": _signed(late["first_dose_people"]),
             "second": _signed(late["second_dose_people"])}
    return Section(
        key="late_entries", title=title, columns=columns,
        rows=[[str(own.METRIC_NAMES[m]), frozen[m], live[m], late[m]] for m in own.METRICS],
        figures={"previous": {"date": previous.day.isoformat(), "cutoff": previous.cutoff.astimezone(campaign.TZ)
                              .isoformat(), "sha256": previous.sha256},
                 "issued": {m: frozen[m] for m in own.METRICS}, "now": {m: live[m] for m in own.METRICS},
                 "late": late, "since_previous_cutoff": since},
        sentence=sentence,
    )


def sections_of(ctx: ReportContext) -> tuple[own.Figures, list[Section]]:
    """The report's own sections (order 10–50) and then every contributed one (60 and up)."""
    f = own.Figures.of(ctx)
    by_band = own.residents_by_band(ctx)
    mine = [
        own.doses_section(f),                 # 10
        late_entries_section(f),              # 15
        own.coverage_section(f, by_band),     # 20
        own.age_band_section(f, by_band),     # 25
        own.by_division_section(f),           # 30
        own.aefi_section(f),                  # 40
        own.stock_section(ctx),               # 45
        own.excursions_section(ctx),          # 50
    ]
    return f, mine + contributed(ctx)


def build_document(ctx: ReportContext) -> dict[str, Any]:
    """The report as a document in the active language (names, titles and the sentence
    translated; figures as numbers): what the API returns and the xlsx and the page render."""
    f, sections = sections_of(ctx)
    cum = f.cumulative
    # A daily report is written on its day: the sentence says 6月1日19时, without the year.
    sentence = report_sentence(ctx.division, ctx.cutoff, doses=cum["doses_total"], first=cum["first_dose_people"],
                               second=cum["second_dose_people"], today=ctx.day)
    joiner = "" if (get_language() or "").startswith("zh") else " "
    sentence = joiner.join([sentence, *(s.sentence for s in sections if s.sentence)])
    today = {m: f.today(m) for m in own.METRICS}
    return {
        "division_code": ctx.division.code,
        "division_name": ctx.division.name,
        "date": ctx.day.isoformat(),
        "cutoff": ctx.cutoff.isoformat(),
        "cutoff_text": report_time(ctx.cutoff, today=ctx.day),
        "title": _("Daily report of COVID-19 vaccination: %(division)s, %(date)s")
        % {"division": ctx.division.name, "date": format_date(ctx.day)},
        "sentence": sentence,
        "status": "draft",
        "issued_at": None,
        "issued_by": None,
        "sha256": None,
        "figures": {
            # The summary's figures at the cut-off (GET /api/v1/stats/summary?at=<cutoff>), and the day's.
            "cumulative": {m: cum[m] for m in own.METRICS},
            "today": today,
            "residence": cum["residence"],
            "population_18_plus": cum["population_18_plus"],
            "late_entries_at_cutoff": cum["late_entries"],
        },
        "sections": [dataclasses.asdict(s) for s in sections],
    }


def issued_for(division: Division, day: dt.date) -> IssuedReport | None:
    return IssuedReport.objects.filter(division=division, day=day).first()


def issued_document(report: IssuedReport, language: str | None = None) -> dict[str, Any]:
    """An issued report's stored document in ``language`` (the active one by default), falling
    back to the campaign's default language."""
    language = (language or get_language() or settings.LANGUAGE_CODE).lower()
    content = report.content
    for code in (language, language.split("-")[0], settings.LANGUAGE_CODE):
        if code in content:
            return content[code]
    return next(iter(content.values()))


def daily_report(division: Division, day: dt.date, cutoff: str | None = None, *, user: Any = None,
                 now: dt.datetime | None = None) -> dict[str, Any]:
    """The report for ``division`` on ``day`` at ``cutoff``: the issued one, frozen, when that
    day's report was issued at this cut-off; otherwise the figures computed now (a draft)."""
    ctx = report_context(division, day, cutoff, user=user, now=now)
    report = issued_for(division, day)
    if report is not None and report.cutoff == ctx.cutoff:
        return issued_document(report)
    return build_document(ctx)
