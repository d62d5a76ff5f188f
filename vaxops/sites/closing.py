"""What other apps do when a session closes, inside the closing transaction.

An app registers a function from its ``AppConfig.ready()``::

    from vaxops.sites.closing import register
    register("no_shows", mark_no_shows)

``fn(session, at, user)`` runs in ``sessions.close_session``'s transaction, after the open
vials are written off and before the closing figures are computed (so a contributor to the
figures, ``sites.figures``, sees what it wrote). Unlike a figures contributor it may write;
it writes no audit event of its own (the closing event is the record), and an error it
raises refuses the closing with nothing written.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

_HOOKS: dict[str, Callable[[Any, dt.datetime, Any], None]] = {}


def register(name: str, fn: Callable[[Any, dt.datetime, Any], None]) -> None:
    """Add (or replace, by ``name``) a closing step."""
    _HOOKS[name] = fn


def run(session: Any, at: dt.datetime, user: Any) -> None:
    """Every registered closing step, in the order of their names."""
    for name in sorted(_HOOKS):
        _HOOKS[name](session, at, user)
