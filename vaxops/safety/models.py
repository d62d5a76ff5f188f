"""Adverse events following immunization: reports, their clocks, clusters and investigation
(docs/aefi.md)."""

from __future__ import annotations

from django.db import models  # noqa: F401
