from django.core.management.base import BaseCommand, CommandError

from vaxops.access.models import Role
from vaxops.access.services import create_user
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source


class Command(BaseCommand):
    help = (
        "Create a user with a role over a scope (division or site code); --token prints an API token once. "
        "The password must pass the password validators. An existing user is refused unless --add-role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--scope", default="", help="division code (e.g. 513301) or site code")
        parser.add_argument("--password", default=None)
        parser.add_argument("--token", action="store_true", help="issue an API token and print it")
        parser.add_argument("--add-role", action="store_true", help="add the role to an existing user")

    def handle(self, *args, **opts):
        try:
            user, token = create_user(
                username=opts["username"], role=opts["role"], scope=opts["scope"] or None,
                password=opts["password"], with_token=opts["token"], add_role=opts["add_role"],
                source=Source.CLI,
            )
        except (ValueError, VaxopsError) as exc:
            raise CommandError(getattr(exc, "message", str(exc))) from None
        self.stdout.write(f"user {user.username}: {opts['role']} @ {opts['scope'] or '*'}")
        if token:
            self.stdout.write(f"token (shown once): {token}")
