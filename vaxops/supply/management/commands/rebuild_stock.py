import time

from django.core.management.base import BaseCommand
from django.db import transaction

from vaxops.supply.ledger import rebuild


class Command(BaseCommand):
    help = "Recompute every stock balance (store × lot) from the ledger's lines; holds are kept."

    def handle(self, *args, **opts):
        started = time.perf_counter()
        with transaction.atomic(durable=True):
            rows = rebuild()
        self.stdout.write(f"rebuilt {rows} stock balance rows in {time.perf_counter() - started:.1f} s")
