"""The standby list of a session: people who asked to be called for leftover doses, and the
offers made to them (docs/standby.md)."""

from __future__ import annotations

from django.db import models  # noqa: F401
