"""Staff, their qualifications, session rosters, support deployments and the medical-assurance
readiness gate of a session (docs/sites.md)."""

from __future__ import annotations

from django.db import models  # noqa: F401
