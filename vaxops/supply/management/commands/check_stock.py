import json
import sys

from django.core.management.base import BaseCommand

from vaxops.supply.reconcile import check_stock


class Command(BaseCommand):
    help = (
        "Verify the stock ledger over the whole database: (a) each balance equals the sum of its lines; "
        "(b) per store and lot, received = on hand + issued (from the transfer documents) + administered + "
        "wasted and adjusted, and the transfer lines agree with the documents; (c) per site and lot, the doses "
        "administered net of voids equal the valid dose records. Prints every discrepancy; exit status 1 if any "
        "(see vaxops/supply/reconcile.py)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print the report as JSON.")

    def handle(self, *args, **opts):
        report = check_stock()
        if opts["json"]:
            self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        else:
            for d in report.discrepancies:
                self.stdout.write(str(d))
            summary = (f"{report.balances_checked} balances, {report.store_lots_reconciled} store × lot "
                       f"reconciliations, {report.site_lots_checked} site × lot dose counts")
            if report.clean:
                self.stdout.write(f"clean: {summary}")
            else:
                self.stdout.write(f"{len(report.discrepancies)} discrepancies in {summary}")
        if not report.clean:
            sys.exit(1)
