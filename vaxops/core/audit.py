"""Writing audit events from services."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils import timezone

from vaxops.core.models import AuditEvent


def audit(
    action: str,
    obj: models.Model,
    *,
    actor: Any,
    source: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    county_code: str = "",
) -> AuditEvent:
    """Record one audit event; call inside the service's transaction."""
    return AuditEvent.objects.create(
        at=timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        before=before,
        after=after,
        source=source,
        county_code=county_code,
    )
