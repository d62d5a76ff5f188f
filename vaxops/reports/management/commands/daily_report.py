"""``vaxops daily-report --division CODE --date YYYY-MM-DD [--cutoff HH:MM] --out FILE.xlsx``."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.regions.models import Division
from vaxops.reports.daily import DEFAULT_CUTOFF, daily_report, issued_document
from vaxops.reports.services import issue_daily_report
from vaxops.reports.xlsx import workbook


class Command(BaseCommand):
    help = ("Write a division's daily report (日报) for a date at a cut-off hour as an xlsx file: the issued "
            "report when that day's was issued at this cut-off, otherwise the figures now; --issue issues it first.")

    def add_arguments(self, parser):
        parser.add_argument("--division", required=True, help="division code, e.g. 513300")
        parser.add_argument("--date", required=True, help="the report's date, YYYY-MM-DD")
        parser.add_argument("--cutoff", default=DEFAULT_CUTOFF, help="cut-off hour HH:MM (default 19:00)")
        parser.add_argument("--out", required=True, help="the xlsx file to write")
        parser.add_argument("--language", default=settings.LANGUAGE_CODE, choices=[c for c, _ in settings.LANGUAGES])
        parser.add_argument("--issue", action="store_true", help="issue (freeze) the report before writing it")

    def handle(self, *args, **opts):
        try:
            day = dt.date.fromisoformat(opts["date"])
        except ValueError:
            raise CommandError(f"--date must be YYYY-MM-DD, not {opts['date']!r}")
        with translation.override(opts["language"]):
            try:
                if opts["issue"]:
                    report = issue_daily_report(division_code=opts["division"], day=day, cutoff=opts["cutoff"],
                                                acting_user=None, source=Source.CLI)
                    doc = issued_document(report, opts["language"])
                else:
                    division = Division.objects.filter(code=opts["division"]).first()
                    if division is None:
                        raise VaxopsError("division_not_found", {"division_code": opts["division"]})
                    doc = daily_report(division, day, opts["cutoff"])
            except VaxopsError as exc:
                raise CommandError(f"{exc.code}: {exc.message}")
            out = Path(opts["out"])
            out.write_bytes(workbook(doc))
        status = f"issued, sha256 {doc['sha256']}" if doc["status"] == "issued" else "draft"
        self.stdout.write(f"{out}: {doc['division_code']} {doc['date']} cut-off {opts['cutoff']} ({status})")
        self.stdout.write(doc["sentence"])
