from django.core.management.base import BaseCommand, CommandError

from vaxops.access.services import revoke_tokens
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source


class Command(BaseCommand):
    help = "Revoke every API token of a user; the next request with any of them is refused in every process."

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)

    def handle(self, *args, **opts):
        try:
            count = revoke_tokens(username=opts["username"], source=Source.CLI)
        except VaxopsError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"user {opts['username']}: {count} token(s) revoked")
