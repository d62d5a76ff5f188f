"""Translated texts for eligibility reasons (codes and templates from catalog.rules)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

REASON_TEXTS = {
    "not_born": _("The birth date {birth_date} is after the assessment date {on}."),
    "unknown_product": _(
        "A previous dose is of product {product_code}, which is not in the catalogue; review the record."
    ),
    "schedule_mix": _(
        "{product} has a {product_doses}-dose schedule but the series was started with {series_product} ({series_doses} doses): schedules with different numbers of doses never mix."
    ),
    "platform_mix": _(
        "{product} is a {platform} vaccine but the series was started with {series_product} ({series_platform}): only a product of the same platform may complete a series."
    ),
    "series_complete": _("The series is complete and no further dose is due."),
    "booster_product_not_allowed": _("{product} cannot be the booster for this series; allowed: {allowed}."),
    "age_above_maximum": _("{product} is not authorised at age {age}."),
    "age_below_product_minimum": _(
        "{product} is never given below age {min_age}: no rule of the product allows a younger person; eligible from {earliest_date}."
    ),
    "deferred_indefinitely": _(
        "Vaccination is deferred ({deferral_code}) with no end date; a clinician must lift it."
    ),
    "age_below_minimum": _("The minimum age for {product} is {min_age}; eligible from {earliest_date}."),
    "age_group_not_yet_open": _("{product} opens to ages {age_group} on {earliest_date}."),
    "min_interval": _(
        "Dose {dose_number} must be at least {days} days after the previous dose ({previous_dose_date}); eligible from {earliest_date}."
    ),
    "booster_not_started": _("This booster is given from {earliest_date}."),
    "booster_interval": _(
        "A booster is given at least {days} days after the primary series was completed ({completed_on}); eligible from {earliest_date}."
    ),
    "booster_age_below_minimum": _(
        "The minimum age for a booster is {min_age}; eligible from {earliest_date}."
    ),
    "other_vaccine_interval": _(
        "Another vaccine was given on {other_given_on}; more than {days} days must pass; eligible from {earliest_date}."
    ),
    "deferred": _("Vaccination is deferred ({deferral_code}) until {until}; eligible from {earliest_date}."),
    "dose_overdue": _(
        "Dose {dose_number} was due by {due_by} ({days_late} days late): give it as soon as possible; the series is not restarted."
    ),
    "product_switch": _(
        "The series continues with {product} after {previous_product}, a product of the same platform."
    ),
    "booster_homologous": _("Booster with the product of the primary series."),
    "booster_sequential": _("Sequential booster with {product} after a {primary_platform} primary series."),
    "booster_first_dose_product": _(
        "Booster with {product}, the product of the first dose, because the series mixed products (the last dose was {last_product})."
    ),
}


def reason_message(code: str, params: dict) -> str:
    """The reason in the active language, with its parameters filled in."""
    template = str(REASON_TEXTS.get(code, code))
    try:
        return template.format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def verdict_reasons(verdict) -> list[dict]:
    """Reasons and notes of a verdict as ``{code, message, params}`` in the active language."""
    return [
        {"code": r.code, "message": reason_message(r.code, dict(r.params)), "params": dict(r.params)}
        for r in (*verdict.reasons, *getattr(verdict, "notes", ()))
    ]
