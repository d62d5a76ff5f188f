"""Translated texts for eligibility reasons (codes and templates from catalog.rules), and how
the parameters of a reason or an error read in a message.

A reason's ``params`` (and a ``VaxopsError``'s ``detail``) stay codes and ISO dates: outside
tools read them. The rendered message names everything in words, in the active language, by
the **name of the parameter** (so a new reason code reads right with no more work, provided its
parameters follow the convention):

* ``product``, ``product_code``, ``*_product`` (``series_product``, ``previous_product``,
  ``last_product``, ``lot_product`` …): a product code → the product's name
  (``Product.name_zh`` / ``name_en``); a code that no product has reads as written.
* ``allowed``, ``*_products``: product codes (a list or a comma-separated string) → their
  names, joined as the language joins a list (``A, B`` / ``A、B``).
* ``platform``, ``*_platform``: a platform code → its name (灭活疫苗 / inactivated vaccine;
  ``catalog.models.PLATFORM_NAMES``).
* ``deferral``, ``deferral_code``, ``*_deferral``: a deferral reason code → its label.
* ``on``, ``until``, ``due_by``, ``*_date``, ``*_on``, ``*_until``, ``*_due_by``: an ISO date →
  2021年6月1日 / 1 June 2021 (``core.formats.format_date``).
* ``*_at``: an ISO date-time → 2021年6月1日 19:00 / 1 June 2021 19:00, in the campaign's zone.

Besides, any ``date``/``datetime`` value, and any string that is exactly an ISO date, reads
as a date whatever its name. Other values (numbers, lot numbers, ages) are shown as they are.
A value that is already words (a desk that formatted it itself) is left alone.

Templates name products and platforms as nouns ("… after a primary series of {platform}"),
never as adjectives with an article before them, so that every language reads right with the
names substituted; Chinese templates put no spaces around substituted names, dates or numbers.
"""

from __future__ import annotations

import datetime as dt
import re
import string
from collections.abc import Callable, Mapping
from typing import Any

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext

from vaxops.catalog.models import platform_name, product_name
from vaxops.core.formats import format_date, format_datetime

REASON_TEXTS = {
    "not_born": _("The birth date {birth_date} is after the assessment date {on}."),
    "unknown_product": _(
        "A previous dose is of product {product_code}, which is not in the catalogue; review the record."
    ),
    "schedule_mix": _(
        "{product} has a {product_doses}-dose schedule but the series was started with {series_product} ({series_doses} doses): schedules with different numbers of doses never mix."
    ),
    "platform_mix": _(
        "The series was started with {series_product} ({series_platform}) and cannot continue with {product} ({platform}): only a product of the same platform may complete a series."
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
    "booster_sequential": _("Sequential booster with {product} after a primary series of {primary_platform}."),
    "booster_first_dose_product": _(
        "Booster with {product}, the product of the first dose, because the series mixed products (the last dose was {last_product})."
    ),
}


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _is_product(name: str) -> bool:
    return name in ("product", "product_code") or name.endswith("_product")


def _is_product_list(name: str) -> bool:
    return name == "allowed" or name.endswith("_products")


def _is_platform(name: str) -> bool:
    return name == "platform" or name.endswith("_platform")


def _is_deferral(name: str) -> bool:
    return name in ("deferral", "deferral_code") or name.endswith("_deferral")


def _is_date(name: str) -> bool:
    return name in ("on", "until", "due_by") or name.endswith(("_date", "_on", "_until", "_due_by"))


def _deferral_label(code: str) -> str:
    # The deferral reasons are the registry's choices; the catalog only reads their labels.
    from vaxops.registry.models import Deferral

    return str(Deferral.Reason(code).label) if code in Deferral.Reason.values else code


def _names(value: Any) -> str:
    codes = value.split(",") if isinstance(value, str) else list(value)
    # Translators: what separates the items of a list in a sentence ("A, B"; Chinese uses 、).
    return pgettext("list separator", ", ").join(product_name(str(c).strip()) for c in codes if str(c).strip())


def _date_words(value: Any, reader: Callable[[Any], str]) -> Any:
    try:
        return reader(value)
    except (TypeError, ValueError):
        return value  # already words, or not a date after all: shown as it is


def readable(name: str, value: Any) -> Any:
    """``value`` of the parameter ``name`` as a person reads it (see the module docstring)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return format_date(value)
    if _is_product_list(name) and isinstance(value, (str, list, tuple)):
        return _names(value)
    if not isinstance(value, str):
        return value
    if _is_product(name):
        return product_name(value)
    if _is_platform(name):
        return platform_name(value)
    if _is_deferral(name):
        return _deferral_label(value)
    if ISO_DATETIME.match(value) and (name.endswith("_at") or _is_date(name)):
        return _date_words(value, format_datetime if name.endswith("_at") else format_date)
    if ISO_DATE.match(value):
        return _date_words(value, format_date)
    return value


def _fields(template: str) -> set[str]:
    try:
        return {f for _, f, _, _ in string.Formatter().parse(template) if f}
    except ValueError:
        return set()


def fill(template: Any, params: Mapping[str, Any], *, skip_none: bool = False) -> str:
    """``template`` (a translated text) in the active language with ``params`` filled in as
    words; only the parameters the template uses are rendered. A template whose fields the
    parameters do not cover is returned unfilled rather than failing the request."""
    text = str(template)
    used = _fields(text)
    values = {
        k: readable(k, v) for k, v in params.items() if k in used and not (skip_none and v is None)
    }
    try:
        return text.format(**values)
    except (KeyError, IndexError, ValueError, AttributeError):
        return text


def reason_message(code: str, params: Mapping[str, Any]) -> str:
    """The reason in the active language, with its parameters filled in as words (product and
    platform names, deferral labels, dates in the language's one format)."""
    return fill(REASON_TEXTS.get(code, code), params)


def verdict_reasons(verdict) -> list[dict]:
    """Reasons and notes of a verdict as ``{code, message, params}`` in the active language."""
    return [
        {"code": r.code, "message": reason_message(r.code, dict(r.params)), "params": dict(r.params)}
        for r in (*verdict.reasons, *getattr(verdict, "notes", ()))
    ]
