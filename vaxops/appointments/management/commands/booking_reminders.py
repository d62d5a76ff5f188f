"""``vaxops booking-reminders [--date YYYY-MM-DD]``: make the day-before reminders of the
bookings of the next day's sessions (``send-messages`` sends them at the reminder time)."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from vaxops.appointments.reminders import generate_day_before
from vaxops.core.models import Source


class Command(BaseCommand):
    help = ("Make the SMS reminders for tomorrow's bookings (one per booking, never twice), to go out at "
            "VAXOPS_BOOKING_REMINDER_TIME today.")

    def add_arguments(self, parser):
        parser.add_argument("--date", help="the day the reminders go out (default today): bookings of the day after")

    def handle(self, *args, **opts):
        from vaxops.sites.sessions import today

        try:
            day = dt.date.fromisoformat(opts["date"]) if opts.get("date") else today()
        except ValueError as exc:
            raise CommandError("--date: give the day as YYYY-MM-DD") from exc
        counts = generate_day_before(day, source=Source.CLI)
        self.stdout.write(f"bookings {counts['bookings']}, reminders made {counts['made']}, "
                          f"without a phone {counts['no_phone']}")
