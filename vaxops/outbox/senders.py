"""Who sends a message: ``VAXOPS_MESSAGE_SENDER`` names a class (dotted path) whose instances
have ``send(message)``; a failure is an exception. The default only writes the message to the
log (the outbox table keeps it); the mobilisation issue adds real channels (an SMS gateway)."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger("vaxops.outbox")

DEFAULT_SENDER = "vaxops.outbox.senders.LogSender"


class Sender(Protocol):
    def send(self, message: Any) -> None: ...


class LogSender:
    """Writes each message to the ``vaxops.outbox`` log; the outbox marks it sent."""

    def send(self, message: Any) -> None:
        logger.info("sms to %s (%s): %s", message.phone, message.reason, message.text)


class RecordingSender:
    """For tests: records every call in ``RecordingSender.calls``; a phone listed in
    ``RecordingSender.failing`` raises, as an unreachable gateway would."""

    calls: list[tuple[str, str, str]] = []
    failing: set[str] = set()

    def send(self, message: Any) -> None:
        if message.phone in self.failing:
            raise ConnectionError(f"gateway refused {message.phone}")
        RecordingSender.calls.append((message.reason, message.phone, message.text))


@cache
def _sender_class(path: str) -> type:
    return import_string(path)


def current_sender() -> Sender:
    """An instance of the configured sender (read per call: a test may change the setting)."""
    return _sender_class(getattr(settings, "VAXOPS_MESSAGE_SENDER", "") or DEFAULT_SENDER)()
