"""Writing audit events from services, and the light insert used for append-only rows."""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connections, models, router
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from vaxops.core.models import AuditEvent


@cache
def _insert_sql(model: type[models.Model], using: str, returning: bool) -> tuple[str, tuple[models.Field, ...]]:
    """The INSERT statement for every concrete column but the primary key, built once per model."""
    qn = connections[using].ops.quote_name
    meta = model._meta
    fields = tuple(f for f in meta.concrete_fields if not f.primary_key)
    sql = (
        f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if returning:
        sql += f" RETURNING {qn(meta.pk.column)}"
    return sql, fields


def insert_row(obj: models.Model) -> None:
    """Insert the new ``obj`` with one prepared statement and set its primary key.

    For append-only facts written on hot paths (dose records, audit events): the values go
    through each field's own ``pre_save`` and ``get_db_prep_save`` exactly as in ``save()``,
    but without Django's per-call query compilation, which costs more than the statement.
    Database errors (unique or foreign-key violations) surface as Django's ``IntegrityError``
    like any other write. When a receiver listens to ``pre_save``/``post_save`` for the model,
    falls back to ``obj.save(force_insert=True)`` so that no receiver is ever skipped.
    """
    model = type(obj)
    if pre_save.has_listeners(model) or post_save.has_listeners(model):
        obj.save(force_insert=True)
        return
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    returning = connection.features.can_return_columns_from_insert
    sql, fields = _insert_sql(model, using, returning)
    params = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        pk = cursor.fetchone()[0] if returning else cursor.lastrowid
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = using


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
    event = AuditEvent(
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
    insert_row(event)
    return event
