"""Messages waiting to be sent (SMS text to a phone), idempotent by their reason; senders are
pluggable (docs/outbox.md)."""

from __future__ import annotations

from django.db import models  # noqa: F401
