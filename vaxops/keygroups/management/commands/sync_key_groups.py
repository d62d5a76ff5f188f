from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from vaxops.core.errors import VaxopsError
from vaxops.keygroups.services import members_from_registry


class Command(BaseCommand):
    help = ("Add as key-group members the people registered with priority groups who are not members yet "
            "(within the area of --user).")

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="who adds them (a county command or an administrator)")
        parser.add_argument("--county", help="only the residents of this county (6 digits)")

    def handle(self, *args, **opts):
        user = get_user_model().objects.filter(username=opts["user"]).first()
        if user is None:
            raise CommandError(f"no user {opts['user']!r}")
        try:
            added = members_from_registry(acting_user=user, source="cli", county_code=opts.get("county"))
        except VaxopsError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"added {added} key-group members")
