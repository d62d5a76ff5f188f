"""Doses in batches: the one write path for doses from the desk, the API, device sync, imports
and the demo (a single dose is a batch of one).

The interface below is the contract every caller uses; see ``record_doses``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from vaxops.core.errors import VaxopsError


@dataclass(frozen=True, slots=True)
class DoseItem:
    """One dose to record: the body of ``POST /api/v1/doses``.

    The person is named by ``person_id`` or, for imports, by ``id_number`` (exactly one of the
    two). Times carry their offset.
    """

    client_uuid: uuid.UUID | str
    product_code: str
    lot_number: str
    site_code: str
    administered_at: dt.datetime
    person_id: int | None = None
    id_number: str | None = None
    dose_number: int | None = None
    override_reason: str | None = None
    retrospective_reason: str | None = None


@dataclass(slots=True)
class DoseOutcome:
    """What became of one item, in the order sent."""

    index: int
    client_uuid: uuid.UUID | None
    status: Literal["created", "replayed", "rejected"]
    record: Any = None  # the DoseRecord created or replayed
    error: VaxopsError | None = None

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None


def record_doses(
    items: Sequence[DoseItem],
    *,
    acting_user: Any,
    source: str,
    atomic: bool = False,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> list[DoseOutcome]:
    """Record a batch of doses with exactly the rules of one dose; one outcome per item, in order.

    Each item stands alone unless ``atomic``: then one rejected item writes nothing at all (the
    other items' outcomes are still reported as they would have been). ``dry_run`` checks
    everything and writes nothing. Items for one person are decided in the order sent (dose 1
    then dose 2 in one batch). ``now`` is the moment of recording (default: the clock); only a
    replay of history (the demo) passes it.

    Interim implementation: one ``record_dose`` per item (same rules, not bulk speed).
    """
    from vaxops.vaccination.services import record_dose

    if atomic or dry_run:
        raise NotImplementedError("atomic and dry_run arrive with the bulk engine")
    del now
    outcomes: list[DoseOutcome] = []
    for index, item in enumerate(items):
        try:
            key = uuid.UUID(str(item.client_uuid))
        except ValueError:
            key = None
        try:
            person_id = item.person_id
            if person_id is None:
                from vaxops.registry.models import Person

                person_id = Person.objects.filter(id_number=(item.id_number or "").strip().upper()) \
                    .values_list("pk", flat=True).first() or 0
            record, created = record_dose(
                client_uuid=item.client_uuid, person_id=person_id, product_code=item.product_code,
                lot_number=item.lot_number, site_code=item.site_code, administered_at=item.administered_at,
                acting_user=acting_user, source=source, override_reason=item.override_reason,
                dose_number=item.dose_number, retrospective_reason=item.retrospective_reason,
            )
        except VaxopsError as exc:
            outcomes.append(DoseOutcome(index, key, "rejected", error=exc))
            continue
        outcomes.append(DoseOutcome(index, key, "created" if created else "replayed", record=record))
    return outcomes
