"""People in batches: the one write path for registrations from the desk, the API, imports and
the demo (a single registration is a batch of one).

The interface below is the contract every caller uses; see ``register_people``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from vaxops.core.errors import VaxopsError


@dataclass(frozen=True, slots=True)
class PersonItem:
    """One person to register (the fields of ``POST /api/v1/persons``)."""

    id_number: str
    name: str
    phone: str = ""
    division_code: str | None = None
    priority_groups: tuple[str, ...] = ()


@dataclass(slots=True)
class PersonOutcome:
    """What became of one item, in the order sent.

    ``already_present``: the ID number is registered with the same content (nothing written);
    ``updated``: registered, and the allowed fields (``UPDATABLE``) changed as the item says
    (only with ``update=True``; otherwise a difference is ``person_exists``).
    """

    index: int
    status: Literal["created", "already_present", "updated", "rejected"]
    person: Any = None
    error: VaxopsError | None = None
    changed: list[str] = field(default_factory=list)

    @property
    def code(self) -> str | None:
        return self.error.code if self.error else None


# Fields an import may change on a registered person.
UPDATABLE = ("name", "phone", "division_code", "priority_groups")


def register_people(
    items: Sequence[PersonItem],
    *,
    acting_user: Any,
    source: str,
    update: bool = False,
    atomic: bool = False,
    dry_run: bool = False,
) -> list[PersonOutcome]:
    """Register a batch of people with exactly the rules of one registration; one outcome per
    item, in order. An ID number twice in one batch: the second is judged against the first.
    ``atomic``: one rejected item writes nothing; ``dry_run``: check everything, write nothing.

    Interim implementation: one ``register_person`` per item (same rules, not bulk speed).
    """
    from vaxops.registry.models import Person
    from vaxops.registry.services import register_person

    if atomic or dry_run or update:
        raise NotImplementedError("atomic, dry_run and update arrive with the bulk engine")
    outcomes: list[PersonOutcome] = []
    for index, item in enumerate(items):
        try:
            person = register_person(
                id_number=item.id_number, name=item.name, phone=item.phone, division_code=item.division_code,
                priority_groups=list(item.priority_groups), acting_user=acting_user, source=source,
            )
        except VaxopsError as exc:
            if exc.code == "person_exists":
                existing = Person.objects.filter(pk=exc.detail.get("id")).first()
                if existing is not None and existing.name == item.name.strip():
                    outcomes.append(PersonOutcome(index, "already_present", person=existing))
                    continue
            outcomes.append(PersonOutcome(index, "rejected", error=exc))
            continue
        outcomes.append(PersonOutcome(index, "created", person=person))
    return outcomes
