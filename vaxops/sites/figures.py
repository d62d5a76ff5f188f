"""The closing figures of a session: what other apps add to ``Session.figures``.

An app registers a function from its ``AppConfig.ready()``::

    from vaxops.sites.figures import register
    register("staff_hours", lambda session: {"staff_hours": 123.5})

``fn(session)`` returns a dict merged into the figures ``sessions.close_session`` writes, inside
the closing transaction (so it reads the session's final state and must not write).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

_FIGURES: dict[str, Callable[[Any], dict]] = {}


def register(name: str, fn: Callable[[Any], dict]) -> None:
    """Add (or replace, by ``name``) a contributor to the closing figures."""
    _FIGURES[name] = fn


def registered() -> list[str]:
    return sorted(_FIGURES)


def contributed(session: Any) -> dict[str, Any]:
    """The registered figures of ``session``, in the order of their names."""
    out: dict[str, Any] = {}
    for name in sorted(_FIGURES):
        part = _FIGURES[name](session)
        if part:
            out.update(part)
    return out
