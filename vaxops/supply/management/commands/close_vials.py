"""``vaxops close-vials``: write off the unused doses of open vials whose window has passed."""

import datetime as dt

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.supply.dosestock import close_open_vials


class Command(BaseCommand):
    help = "Close every open multi-dose vial past its open-vial window and write its unused doses off."

    def add_arguments(self, parser):
        parser.add_argument("--store", default=None, help="only this store's vials (its code)")
        parser.add_argument("--at", default=None, help="the moment to close at (ISO 8601 with offset; default now)")

    def handle(self, *args, **opts):
        at = timezone.now()
        if opts["at"]:
            at = dt.datetime.fromisoformat(opts["at"])
            if at.utcoffset() is None:
                raise CommandError("--at needs an offset, e.g. 2021-06-01T19:00:00+08:00")
        try:
            done = close_open_vials(store_code=opts["store"], at=at, acting_user=None, source=Source.CLI)
        except VaxopsError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"closed {done['vials']} open vials, {done['doses']} doses written off")
