"""``vaxops rebuild-worklists``: recompute the work lists' due table from the people, their
valid doses, deferrals and contact attempts (after a migration, a data repair, or nightly so
that priority ranks follow changed groups)."""

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from vaxops.outreach.duetable import rebuild
from vaxops.regions.models import Division


class Command(BaseCommand):
    help = "Recompute the work lists' due rows of every resident (or of one division's residents)."

    def add_arguments(self, parser):
        parser.add_argument("--division", help="only the residents of this division's subtree")

    def handle(self, *args, **opts):
        path = ""
        if opts.get("division"):
            division = Division.objects.filter(code=opts["division"]).first()
            if division is None:
                raise CommandError(f"no division {opts['division']}")
            path = division.path
        with transaction.atomic(durable=True):
            count = rebuild(path)
        self.stdout.write(f"rebuilt the due rows of {count} residents")
