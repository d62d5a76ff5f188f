"""The pre-vaccination screening questions, as data (``shared/domain/sites.md``, from the
contraindications of the NHC technical guideline).

Each question names the deferral reason (``registry.Deferral.Reason``) that a "yes" suggests;
the question on another vaccine within 14 days has none, since the dose rules already keep 14
days from other vaccines recorded here: the screener chooses the reason and the date.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Question:
    code: str
    text: object  # a lazy translation
    deferral_code: str | None


QUESTIONS: tuple[Question, ...] = (
    Question("allergy", _("Allergic to a component of the vaccine or to the same kind of vaccine?"), "allergy"),
    Question("severe_allergic_reaction", _("Ever had a severe allergic reaction?"), "severe_allergic_reaction"),
    Question("neurological", _("Uncontrolled epilepsy or another severe neurological disease?"), "neurological"),
    Question("acute_illness", _("Fever, an acute illness or an acute attack of a chronic disease today?"),
             "acute_illness"),
    Question("uncontrolled_chronic", _("A severe chronic disease that is not under control?"), "uncontrolled_chronic"),
    Question("pregnancy", _("Pregnant?"), "pregnancy"),
    Question("recent_vaccine", _("Another vaccine in the last 14 days?"), None),
    Question("recent_infection", _("COVID-19 infection in the last 6 months?"), "recent_infection"),
)

CODES = frozenset(q.code for q in QUESTIONS)


def suggested_deferral(answers: dict[str, bool]) -> str | None:
    """The deferral reason of the first question answered "yes" that has one."""
    return next((q.deferral_code for q in QUESTIONS if answers.get(q.code) and q.deferral_code), None)
