"""``vaxops demo``: migrate, build the Ganzi demo (unless it is already there), print the logins
and serve on http://127.0.0.1:8000 with gunicorn."""

from __future__ import annotations

import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, connections

from vaxops.campaign import demo


class Command(BaseCommand):
    help = (
        "Build the Ganzi prefecture demo (2021 COVID-19 campaign up to 2021-06-01 19:00) and serve it "
        "on http://127.0.0.1:8000. A database that already holds the demo at the same scale and seed "
        "is reused (fast restart)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=demo.DEFAULT_SCALE,
                            help=f"fraction of the reported people and doses (default {demo.DEFAULT_SCALE})")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED,
                            help=f"random seed; the same seed builds the same data (default {demo.DEFAULT_SEED})")
        parser.add_argument("--rebuild", action="store_true", help="build afresh even if the demo is there")
        parser.add_argument("--no-serve", action="store_true", help="build (if needed) and exit")
        parser.add_argument("--bind", default="127.0.0.1:8000", help="address for gunicorn (default %(default)s)")
        parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default %(default)s)")

    def handle(self, *args: Any, **options: Any) -> None:
        scale: float = options["scale"]
        seed: int = options["seed"]
        if scale <= 0:
            raise CommandError("--scale must be positive")
        started = time.perf_counter()
        say = self._say(started)
        engine = connection.vendor
        say(f"database: {engine} {connection.settings_dict['NAME']}")
        call_command("migrate", interactive=False, verbosity=0)
        say("migrations applied")

        state = demo.demo_state(scale, seed)
        if state == "foreign" and not options["rebuild"]:
            raise CommandError(
                "the database holds data that is not a complete demo build; "
                "run `vaxops demo --rebuild` to replace it (everything in it is deleted)"
            )
        if state == "same" and not options["rebuild"]:
            say(f"the demo (scale {scale:g}, seed {seed}) is already built: reusing it")
        else:
            if state != "empty":
                reason = "--rebuild" if options["rebuild"] else "the database holds another demo build"
                say(f"starting from an empty database ({reason})")
                demo.reset_database(say)
            first, second = demo.targets(scale)
            say(f"building Ganzi at scale {scale:g} (seed {seed}): {first:,} first doses, "
                f"{second:,} second doses, {first + second:,} in all")
            # PBKDF2 releases the GIL: hash the demo passwords on the second core meanwhile.
            with ThreadPoolExecutor(max_workers=1) as pool:
                hashing = pool.submit(demo.hash_demo_passwords)
                report = demo.build_demo(scale=scale, seed=seed, progress=say, passwords=hashing.result)
            say(f"built in {report.seconds:.1f}s: {report.persons:,} residents "
                f"({report.unvaccinated:,} not yet vaccinated), {report.doses:,} doses, "
                f"{report.sites:,} sites, {report.lots} lots")

        tokens = demo.issue_demo_tokens()
        self._print_logins(tokens, options["bind"])
        self._print_where_to_look(options["bind"])

        if options["no_serve"]:
            return
        call_command("collectstatic", interactive=False, verbosity=0)
        gunicorn = Path(sys.executable).with_name("gunicorn")
        argv = [str(gunicorn), "vaxops.wsgi", "-b", options["bind"], "-w", str(options["workers"])]
        # The dashboard opens at the demo's report moment (and says so), not at "now" years later.
        os.environ.setdefault("VAXOPS_CAMPAIGN_MOMENT", demo.REPORT_AT.isoformat())
        say(f"serving on http://{options['bind']}/  ({' '.join(argv[1:])}; Ctrl-C stops)")
        sys.stdout.flush()
        connections.close_all()
        os.execv(str(gunicorn), argv)

    def _say(self, started: float):
        def say(line: str) -> None:
            if line.startswith("["):
                self.stdout.write("  " + line)
            else:
                self.stdout.write(f"[{time.perf_counter() - started:6.1f}s] {line}")
            self.stdout.flush()

        return say

    def _print_where_to_look(self, bind: str) -> None:
        from vaxops.campaign.demo_guide import where_to_look

        rows = where_to_look()
        if not rows:
            return
        self.stdout.write("Where to look (site-days; passwords as above):")
        width = max(len(what) for what, _, _ in rows)
        for what, path, login in rows:
            self.stdout.write(f"  {what.ljust(width)}  http://{bind}{path}  [{login}]")
        self.stdout.write("")

    def _print_logins(self, tokens: dict[str, str], bind: str) -> None:
        rows = [("username", "role", "scope", "password"), *demo.demo_logins()]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        self.stdout.write("")
        self.stdout.write("Demo logins (web: username / password):")
        for i, row in enumerate(rows):
            self.stdout.write("  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
            if i == 0:
                self.stdout.write("  " + "  ".join("-" * w for w in widths))
        self.stdout.write("")
        self.stdout.write("API tokens (Authorization: Bearer …; issued at this start, earlier ones revoked):")
        for username, token in tokens.items():
            self.stdout.write(f"  {username:<20} {token}")
        self.stdout.write(
            "  e.g. curl -H 'Authorization: Bearer <token>' "
            f"'http://{bind}/api/v1/stats/summary?division=513300&at=2021-06-01T19:00:00%2B08:00'"
        )
        self.stdout.write("")
