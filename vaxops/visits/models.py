"""A visit of a person at an open session: check-in, screening, vaccination, observation and
release (docs/visits.md)."""

from __future__ import annotations

from django.db import models  # noqa: F401
