"""The outbox's writes (docs/outbox.md): make a message (idempotent by its reason), suppress the
message of a reason that has gone, send what is pending through the configured sender.

``enqueue``, ``enqueue_many`` and ``suppress`` run inside the caller's transaction when there is
one (a standby offer and its message commit together) and write no audit event of their own:
the service that wanted the message audits its own change; the message row is its own record
(created, sent or suppressed, with times). ``send_pending`` is a run of its own with one audit
event for the run.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from vaxops.core.audit import audit
from vaxops.core.errors import VaxopsError
from vaxops.outbox import validity
from vaxops.outbox.models import Message, MessageStatus
from vaxops.outbox.senders import current_sender

#: a message whose sender failed this many times is marked failed and not tried again
MAX_ATTEMPTS = 3
MAX_TEXT = 500


@dataclass(frozen=True)
class MessageIn:
    """One message wanted by a service (see ``enqueue``)."""

    reason: str
    phone: str
    text: str
    kind: str


def _check(reason: str, phone: str, text: str, kind: str) -> None:
    if not reason or len(reason) > 120:
        raise VaxopsError("message_invalid", {"field": "reason"})
    if not phone or len(phone) > 20:
        raise VaxopsError("message_invalid", {"field": "phone"})
    if not text or len(text) > MAX_TEXT:
        raise VaxopsError("message_invalid", {"field": "text"})
    if not kind or len(kind) > 32:
        raise VaxopsError("message_invalid", {"field": "kind"})


def enqueue(*, reason: str, phone: str, text: str, kind: str, at: dt.datetime | None = None) -> Message:
    """The message for ``reason``: made now (pending, to be sent from ``at``, default now) unless
    one was already made for that reason, which is returned as it is (sent, suppressed or
    pending; never made again, never revived). Safe under concurrency: the reason is unique in
    the database, and a racing second insert returns the first row."""
    _check(reason, phone, text, kind)
    existing = Message.objects.filter(reason=reason).first()
    if existing is not None:
        return existing
    now = timezone.now()
    message = Message(reason=reason, phone=phone, text=text, kind=kind, created_at=now, send_after=at or now)
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        return Message.objects.get(reason=reason)
    return message


def enqueue_many(messages: Sequence[MessageIn], *, at: dt.datetime | None = None) -> dict[str, Message]:
    """``enqueue`` for many reasons at once (one read, one insert): {reason: message}."""
    for m in messages:
        _check(m.reason, m.phone, m.text, m.kind)
    reasons = [m.reason for m in messages]
    found = {m.reason: m for m in Message.objects.filter(reason__in=reasons)}
    now = timezone.now()
    new = [Message(reason=m.reason, phone=m.phone, text=m.text, kind=m.kind, created_at=now, send_after=at or now)
           for m in {m.reason: m for m in messages}.values() if m.reason not in found]
    if new:
        try:
            with transaction.atomic():
                Message.objects.bulk_create(new)
        except IntegrityError:  # a racing insert of the same reasons: take each as it stands
            for m in new:
                enqueue(reason=m.reason, phone=m.phone, text=m.text, kind=m.kind, at=m.send_after)
        found.update({m.reason: m for m in Message.objects.filter(reason__in=[x.reason for x in new])})
    return found


def suppress(reason: str | Iterable[str], *, at: dt.datetime | None = None) -> int:
    """The reason (or reasons) has gone: its message, if not yet sent, is never sent. Returns how
    many messages were suppressed (0: none pending, e.g. already sent or never made)."""
    reasons = [reason] if isinstance(reason, str) else list(reason)
    if not reasons:
        return 0
    return Message.objects.filter(reason__in=reasons, status=MessageStatus.PENDING).update(
        status=MessageStatus.SUPPRESSED, suppressed_at=at or timezone.now())


def send_pending(limit: int = 100, *, at: dt.datetime | None = None, acting_user: Any = None,
                 source: str = "cli") -> dict[str, int]:
    """Send up to ``limit`` pending messages due by ``at`` (default now), oldest first, each
    (unless its reason's registered check says it has gone: ``outbox.validity``; then it is
    suppressed) through the configured sender (``VAXOPS_MESSAGE_SENDER``). A message is claimed under its
    row lock (PostgreSQL: ``SKIP LOCKED``, so two runs never send one message twice; SQLite: the
    write lock) and marked sent in the transaction that sent it; a sender failure counts an
    attempt (failed after ``MAX_ATTEMPTS``). One audit event for the run (none if nothing was
    due). Returns {"sent", "failed", "retry", "suppressed"}."""
    if limit < 1 or limit > 10_000:
        raise VaxopsError("message_invalid", {"field": "limit"})
    at = at or timezone.now()
    sender = current_sender()
    counts = {"sent": 0, "failed": 0, "retry": 0, "suppressed": 0}
    due = list(Message.objects.filter(status=MessageStatus.PENDING, send_after__lte=at)
               .order_by("send_after", "pk").values_list("pk", "reason")[:limit])
    stale = validity.gone(reason for _pk, reason in due)
    if stale:  # their reasons went by a path that did not call ``suppress``: never sent
        counts["suppressed"] = suppress(stale, at=at)
    ids = [pk for pk, reason in due if reason not in stale]
    for pk in ids:
        with transaction.atomic(durable=True):
            rows = Message.objects.filter(pk=pk, status=MessageStatus.PENDING)
            if connection.features.has_select_for_update_skip_locked:
                rows = rows.select_for_update(skip_locked=True)
            message = rows.first()
            if message is None:  # sent, suppressed or claimed by another run meanwhile
                continue
            try:
                sender.send(message)
            except Exception as exc:  # noqa: BLE001 - any sender failure is an attempt
                failed = message.attempts + 1 >= MAX_ATTEMPTS
                Message.objects.filter(pk=pk).update(
                    attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:200],
                    status=MessageStatus.FAILED if failed else MessageStatus.PENDING)
                counts["failed" if failed else "retry"] += 1
                continue
            Message.objects.filter(pk=pk).update(status=MessageStatus.SENT, sent_at=timezone.now(),
                                                 attempts=F("attempts") + 1, last_error="")
            counts["sent"] += 1
    if any(counts.values()):
        with transaction.atomic(durable=True):
            audit("outbox.send", Message(pk=0), actor=acting_user, source=source,
                  after={**counts, "at": at.isoformat(), "limit": limit})
    return counts
