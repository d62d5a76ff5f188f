"""Rate limits kept in the database, so that every server process counts the same attempts.

A limit is ``limit`` attempts within ``window``; reaching it locks the key for ``lockout``
from the last counted attempt. Attempts refused during a lock-out are not counted (an attacker
cannot extend a lock-out forever, and nothing is written for a refused request). Checking a
key costs one indexed query reading at most ``limit`` rows; nothing is read on a success path
that does not need it (a valid API token never consults the limits, see ``core.api``).

The state is ``access.Attempt`` rows; writes go through ``access.services`` (audited).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone

from vaxops.access.models import Attempt
from vaxops.core.errors import VaxopsError


@dataclass(frozen=True)
class Limit:
    kind: str
    limit: int
    window: dt.timedelta
    lockout: dt.timedelta
    code: str  # the error code a locked key answers with

    @property
    def horizon(self) -> dt.timedelta:
        """How far back rows can still matter; older rows are pruned."""
        return self.window + self.lockout


def limit_for(kind: str) -> Limit:
    """The configured limit for one kind of attempt (read at call time, so tests can override)."""
    if kind == Attempt.Kind.LOOKUP:
        return Limit(
            kind, settings.VAXOPS_LOOKUP_LIMIT, dt.timedelta(minutes=settings.VAXOPS_LOOKUP_WINDOW_MINUTES),
            dt.timedelta(minutes=settings.VAXOPS_LOOKUP_LOCKOUT_MINUTES), "too_many_requests",
        )
    return Limit(
        kind, settings.VAXOPS_AUTH_FAILURE_LIMIT, dt.timedelta(minutes=settings.VAXOPS_AUTH_FAILURE_WINDOW_MINUTES),
        dt.timedelta(minutes=settings.VAXOPS_AUTH_LOCKOUT_MINUTES), "too_many_failed_logins",
    )


def account_key(username: str) -> str:
    return "account:" + (username or "").strip().lower()[:150]


def address_key(request: HttpRequest) -> str:
    return "address:" + client_address(request)


def user_key(user_id: int) -> str:
    return f"user:{user_id}"


def client_address(request: HttpRequest) -> str:
    """The client's address: ``REMOTE_ADDR``, or behind ``VAXOPS_TRUSTED_PROXIES`` reverse
    proxies the address the outermost trusted proxy saw (from ``X-Forwarded-For``)."""
    proxies = settings.VAXOPS_TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR") or "unknown"
    if proxies <= 0:
        return remote
    hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    if len(hops) < proxies:
        return remote
    return hops[-proxies][:64]


def locked_until(kind: str, keys: Iterable[str], *, now: dt.datetime | None = None) -> dt.datetime | None:
    """The latest moment any of ``keys`` stays locked, or ``None`` if none is locked."""
    limit = limit_for(kind)
    now = now or timezone.now()
    until: dt.datetime | None = None
    for key in keys:
        recent = list(
            Attempt.objects.filter(kind=kind, key=key, at__gte=now - limit.horizon)
            .order_by("-at").values_list("at", flat=True)[: limit.limit]
        )
        if len(recent) >= limit.limit and recent[0] - recent[-1] <= limit.window:
            end = recent[0] + limit.lockout
            if end > now and (until is None or end > until):
                until = end
    return until


def lockout_error(kind: str, until: dt.datetime, *, now: dt.datetime | None = None) -> VaxopsError:
    """The 429 a locked key answers with, saying when to try again (in the campaign's time)."""
    now = now or timezone.now()
    seconds = max(1, math.ceil((until - now).total_seconds()))
    local = timezone.localtime(until)
    return VaxopsError(
        limit_for(kind).code,
        {
            "retry_after_seconds": seconds,
            "retry_at": local.isoformat(timespec="seconds"),
            "retry_time": local.strftime("%H:%M"),
            "retry_minutes": math.ceil(seconds / 60),
        },
    )


def check(kind: str, keys: Iterable[str]) -> None:
    """Raise the lock-out error if any of ``keys`` is locked for ``kind``."""
    now = timezone.now()
    until = locked_until(kind, keys, now=now)
    if until is not None:
        raise lockout_error(kind, until, now=now)
