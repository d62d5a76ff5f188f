"""Whether a pending message's reason still holds, asked just before it is sent.

A service that can tell whether its reasons still hold registers a check for their prefix
(the part of the reason before the first ``:``) from its ``AppConfig.ready()``::

    from vaxops.outbox.validity import register
    register("dose-due", lambda reasons: {r for r in reasons if still_due(r)})

``fn(reasons)`` gets the pending reasons of that prefix and returns those that still hold; it
reads only. ``send_pending`` suppresses the others instead of sending them. This is the
safety net beside ``suppress``: a reason that went away by a path that did not call
``suppress`` (a dose recorded on another device, say) still sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

_CHECKS: dict[str, Callable[[list[str]], set[str]]] = {}


def register(prefix: str, fn: Callable[[list[str]], set[str]]) -> None:
    """Add (or replace) the check of the reasons that start with ``prefix:``."""
    _CHECKS[prefix] = fn


def prefix_of(reason: str) -> str:
    return reason.split(":", 1)[0]


def gone(reasons: Iterable[str]) -> set[str]:
    """The reasons (of those given) whose registered check says they no longer hold; a reason
    with no check for its prefix always holds."""
    by_prefix: dict[str, list[str]] = {}
    for reason in reasons:
        by_prefix.setdefault(prefix_of(reason), []).append(reason)
    out: set[str] = set()
    for prefix, group in by_prefix.items():
        check = _CHECKS.get(prefix)
        if check is not None:
            out.update(set(group) - set(check(group)))
    return out
