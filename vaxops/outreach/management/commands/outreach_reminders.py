"""``vaxops outreach-reminders``: make the day's due-dose and overdue SMS reminders in the
outbox (idempotent by reason; ``vaxops send-messages`` sends them)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vaxops.outreach.reminders import generate
from vaxops.regions.models import Division


class Command(BaseCommand):
    help = "Make the due-dose (due that day) and overdue reminders of a day in the outbox."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="YYYY-MM-DD (default today, Asia/Shanghai)")
        parser.add_argument("--division", help="only the residents of this division's subtree")

    def handle(self, *args, **opts):
        from vaxops.campaign.services import TZ

        try:
            day = dt.date.fromisoformat(opts["date"]) if opts.get("date") else timezone.now().astimezone(TZ).date()
        except ValueError as exc:
            raise CommandError(f"--date: {exc}") from exc
        path = ""
        if opts.get("division"):
            division = Division.objects.filter(code=opts["division"]).first()
            if division is None:
                raise CommandError(f"no division {opts['division']}")
            path = division.path
        made = generate(day, path=path)
        self.stdout.write(f"{made['due']} due and {made['overdue']} overdue reminders ({made['messages']} in the outbox)")
