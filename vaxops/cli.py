"""The ``vaxops`` console command.

The planning engines (``simulate``, ``plan-site``, ``allocate``) run without Django so they
start instantly; every other sub-command is a Django management command
(``vaxops demo`` = ``manage.py demo``, ``vaxops create-user`` = ``manage.py create_user``).
"""

from __future__ import annotations

import os
import sys

PLANNING_COMMANDS = {
    "simulate": "vaxops.planning.simulation.cli:simulate_main",
    "plan-site": "vaxops.planning.simulation.cli:plan_site_main",
    "allocate": "vaxops.planning.allocation.cli:allocate_main",
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in PLANNING_COMMANDS:
        module_name, func_name = PLANNING_COMMANDS[argv[0]].split(":")
        module = __import__(module_name, fromlist=[func_name])
        return int(getattr(module, func_name)(argv[1:]) or 0)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vaxops.settings")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    if argv:
        # Hyphenated sub-commands map onto Django's underscore names.
        argv[0] = argv[0].replace("-", "_")
    if argv and argv[0] == "demo":
        # The demo serves on the published demo key, and so may only the demo.
        os.environ.setdefault("VAXOPS_DEMO", "1")
    try:
        execute_from_command_line(["vaxops", *argv])
    except ImproperlyConfigured as exc:
        print(f"vaxops: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
