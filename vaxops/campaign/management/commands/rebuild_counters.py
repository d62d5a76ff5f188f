import time

from django.core.management.base import BaseCommand

from vaxops.campaign.services import rebuild_counters


class Command(BaseCommand):
    help = "Recompute every dose counter from the dose records."

    def handle(self, *args, **opts):
        started = time.perf_counter()
        rows = rebuild_counters()
        self.stdout.write(f"rebuilt {rows} counter rows in {time.perf_counter() - started:.1f} s")
