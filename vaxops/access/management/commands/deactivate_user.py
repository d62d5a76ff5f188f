from django.core.management.base import BaseCommand, CommandError

from vaxops.access.services import deactivate_user
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source


class Command(BaseCommand):
    help = (
        "Deactivate a user: from the next request on, in every process, their web sessions and API tokens "
        "are refused. Their records stay."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", required=True)

    def handle(self, *args, **opts):
        try:
            deactivate_user(username=opts["username"], source=Source.CLI)
        except VaxopsError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(f"user {opts['username']}: deactivated")
