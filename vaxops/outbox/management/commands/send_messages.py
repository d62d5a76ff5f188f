"""``vaxops send-messages``: send the outbox's pending messages (bounded)."""

from django.core.management.base import BaseCommand, CommandError

from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.outbox.services import send_pending


class Command(BaseCommand):
    help = "Send up to --limit pending outbox messages through the configured sender (VAXOPS_MESSAGE_SENDER)."

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=100, help="at most this many messages (1–10000)")

    def handle(self, *args, **opts):
        try:
            done = send_pending(opts["limit"], source=Source.CLI)
        except VaxopsError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"sent {done['sent']}, failed {done['failed']}, to retry {done['retry']}")
