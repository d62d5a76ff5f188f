"""The outcome codes of a contact attempt, as data: what each one means and what it does.

``hold``: the person leaves the lists until ``until`` (required) and comes back on that day;
``needs``: fields the outcome requires; ``status``: the person status service it calls
(``registry.status``); ``reached``: the resident (or their household) was spoken to. Reasons
for not being vaccinated follow the catch-up forms (domain/reporting.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Outcome:
    code: str
    label: object
    reached: bool = True
    hold: bool = False
    needs: tuple[str, ...] = ()
    status: str = ""  # moved_out | deceased | contraindicated | duplicate
    group: str = "other"  # the roll-up column: booked | refused | away | unreached | other


OUTCOMES: dict[str, Outcome] = {o.code: o for o in (
    Outcome("booked", pgettext_lazy("outcome", "booked"), needs=("session_id",), group="booked"),
    Outcome("will_come", pgettext_lazy("outcome", "will come"), group="booked"),
    # Where and when are written in the note; nothing is recorded as a dose until verified.
    Outcome("vaccinated_elsewhere", pgettext_lazy("outcome", "vaccinated elsewhere")),
    Outcome("refused", pgettext_lazy("outcome", "refused"), needs=("concern",), group="refused"),
    Outcome("hesitant", pgettext_lazy("outcome", "hesitant")),
    Outcome("away", pgettext_lazy("outcome", "away"), hold=True, needs=("until", "place"), group="away"),
    Outcome("contraindicated", pgettext_lazy("outcome", "contraindicated (permanent)"), needs=("reason",), status="contraindicated"),
    Outcome("deferred", pgettext_lazy("outcome", "deferred until a date"), hold=True, needs=("until",)),
    Outcome("unreachable", pgettext_lazy("outcome", "unreachable"), reached=False, group="unreached"),
    Outcome("moved_out", pgettext_lazy("outcome", "moved out"), reached=False, status="moved_out"),
    Outcome("deceased", pgettext_lazy("outcome", "deceased"), reached=False, status="deceased"),
    Outcome("duplicate", pgettext_lazy("outcome", "duplicate record"), reached=False, needs=("duplicate_of",), status="duplicate"),
)}

CHANNELS = {"phone": _("phone"), "visit": _("visit"), "household": _("household contact")}

#: why a resident refuses (catch-up forms): the ``concern`` of a refusal
CONCERNS = {
    "safety": _("worried about safety or side effects"),
    "no_need": _("does not think it is needed"),
    "no_time": _("no time"),
    "too_far": _("the site is too far"),
    "health": _("worried about a health condition"),
    "other": _("other"),
}

#: where an away resident is
PLACES = {"in_county": _("elsewhere in the county"), "out_of_county": _("outside the county")}
