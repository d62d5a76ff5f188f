"""Dose-schedule and eligibility rules, encoded from data.

A pure module (no Django import). The facts live in ``data/products.json`` (or in the same
dicts stored by the catalog app in a JSONField); this module only knows the *kinds* of rule
and how to combine them. Source of the facts: NHC, COVID-19 vaccination technical guideline,
first edition, 2021-03-29 (新冠病毒疫苗接种技术指南（第一版）), and the booster notices of
late 2021 and February 2022. See ``/shared/domain/vaccine_rules.md``.

The one entry point is :func:`assess`: may this person receive a dose of this product on this
day, which dose would it be, and if not, why and from when?

Verdicts
--------
``eligible``
    The dose may be given on ``on``. ``reasons`` is empty; ``notes`` may carry facts worth
    recording (overdue dose, product switch within a platform, kind of booster).
``not_yet``
    Every obstacle goes away by waiting, and ``earliest_date`` is the first day on which all
    of them have gone (the latest of their individual dates). Too early for the minimum
    interval, too young, a rule that is not yet in force (e.g. boosters before 2021-10-01,
    ages 12-17 before 2021-07-01), too soon after another vaccine, a deferral with an end date.
    Rules whose effective date is in the future are known because the data carries them, so
    a 15-year-old asking on 2021-06-01 is told 2021-07-01, not "no".
``refused``
    At least one obstacle can never be removed by waiting: mixing the 2-dose and 3-dose
    schedules, another platform for a primary series, a series already complete, a product
    that cannot boost this series, an age above every band, a deferral with no end date (a
    clinician must lift it), an unknown product in the history, a birth date after ``on``.
    ``earliest_date`` is ``None``; ``reasons`` lists every obstacle, waiting ones included.

Overrides
---------
Which obstacles a site manager may override (with a written reason kept on the record) is
data: the series' ``overridable_reasons``. :meth:`Verdict.is_overridable` answers per reason,
:attr:`Verdict.overridable` for the whole verdict (every reason overridable). The bundled data
names three kinds: a deferral in force that a doctor has cleared (``deferred``,
``deferred_indefinitely``), the 14-day gap to another vaccine (``other_vaccine_interval``), and
an age rule not yet in force for an age the product is approved for by another of its
effective-dated rules (``age_group_not_yet_open``). A person younger than any rule of the
product has ever allowed gets ``age_below_product_minimum``, which :data:`NEVER_OVERRIDABLE`
keeps hard whatever the data says.

Decisions
---------
* All rules are evaluated and all obstacles reported, so the screening desk sees the full
  picture at once (e.g. "too young" *and* "vaccinated against rabies 3 days ago").
* ``due_by`` is a flag, never a block: a late dose is given as soon as possible and the series
  is not restarted (guideline 2021-03-29); the verdict is ``eligible`` with ``overdue=True``.
* Doses and other vaccinations dated after ``on`` are ignored, so a past day can be re-assessed
  (e.g. to validate a back-dated record).
* A dose in ``history`` that belongs to another series (e.g. an influenza campaign) counts as
  "another vaccine" for the 14-day rule.
* Dose numbers count every dose in the series: the booster after two inactivated doses is
  dose 3, which is what the one-dose-N-per-person-per-series constraint needs.
* An :class:`ActiveDeferral` is in force through its ``until`` date inclusive; the dose may be
  given the day after.
* Age in completed years; someone born on 29 February turns a year older on 1 March in common
  years.
* The product's age rules apply to every dose; a booster rule's minimum age applies on top.
* Params of reasons hold only strings and integers (dates in ISO form), so they can go into a
  JSON API ``detail`` unchanged; :data:`REASON_MESSAGES` holds the English templates, which the
  Django layer translates by code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Literal

__all__ = [
    "NEVER_OVERRIDABLE",
    "OBSTACLE_CODES",
    "REASON_MESSAGES",
    "ActiveDeferral",
    "AgeRule",
    "BoosterRule",
    "DoseRule",
    "OtherVaccination",
    "PriorDose",
    "ProductRule",
    "Reason",
    "SeriesSettings",
    "Verdict",
    "age_on",
    "assess",
    "date_of_age",
    "load_products",
]

DEFAULT_PRODUCTS_PATH = Path(__file__).resolve().parent / "data" / "products.json"

Status = Literal["eligible", "not_yet", "refused"]
DoseKind = Literal["primary", "booster"]
BoosterKind = Literal["homologous", "sequential"]

#: Reason code -> English message template; placeholders are keys of ``Reason.params``.
REASON_MESSAGES: dict[str, str] = {
    # refused: waiting does not help
    "not_born": "The birth date {birth_date} is after the assessment date {on}.",
    "unknown_product": "A previous dose is of product {product_code}, which is not in the catalogue; review the record.",
    "schedule_mix": (
        "{product} has a {product_doses}-dose schedule but the series was started with {series_product} "
        "({series_doses} doses): schedules with different numbers of doses never mix."
    ),
    "platform_mix": (
        "The series was started with {series_product} ({series_platform}) and cannot continue with {product} "
        "({platform}): only a product of the same platform may complete a series."
    ),
    "series_complete": "The series is complete and no further dose is due.",
    "booster_product_not_allowed": "{product} cannot be the booster for this series; allowed: {allowed}.",
    "age_above_maximum": "{product} is not authorised at age {age}.",
    "age_below_product_minimum": (
        "{product} is never given below age {min_age}: no rule of the product allows a younger person; "
        "eligible from {earliest_date}."
    ),
    "deferred_indefinitely": "Vaccination is deferred ({deferral_code}) with no end date; a clinician must lift it.",
    # not_yet: waiting until earliest_date helps
    "age_below_minimum": "The minimum age for {product} is {min_age}; eligible from {earliest_date}.",
    "age_group_not_yet_open": "{product} opens to ages {age_group} on {earliest_date}.",
    "min_interval": (
        "Dose {dose_number} must be at least {days} days after the previous dose ({previous_dose_date}); "
        "eligible from {earliest_date}."
    ),
    "booster_not_started": "This booster is given from {earliest_date}.",
    "booster_interval": (
        "A booster is given at least {days} days after the primary series was completed ({completed_on}); "
        "eligible from {earliest_date}."
    ),
    "booster_age_below_minimum": "The minimum age for a booster is {min_age}; eligible from {earliest_date}.",
    "other_vaccine_interval": (
        "Another vaccine was given on {other_given_on}; more than {days} days must pass; "
        "eligible from {earliest_date}."
    ),
    "deferred": "Vaccination is deferred ({deferral_code}) until {until}; eligible from {earliest_date}.",
    # notes on an allowed dose
    "dose_overdue": (
        "Dose {dose_number} was due by {due_by} ({days_late} days late): give it as soon as possible; "
        "the series is not restarted."
    ),
    "product_switch": "The series continues with {product} after {previous_product}, a product of the same platform.",
    "booster_homologous": "Booster with the product of the primary series.",
    "booster_sequential": "Sequential booster with {product} after a primary series of {primary_platform}.",
    "booster_first_dose_product": (
        "Booster with {product}, the product of the first dose, because the series mixed products "
        "(the last dose was {last_product})."
    ),
}


#: Codes that can block a dose (the rest of :data:`REASON_MESSAGES` are notes on an allowed dose).
OBSTACLE_CODES: frozenset[str] = frozenset(
    {
        "not_born", "unknown_product", "schedule_mix", "platform_mix", "series_complete",
        "booster_product_not_allowed", "age_above_maximum", "age_below_product_minimum",
        "deferred_indefinitely", "age_below_minimum", "age_group_not_yet_open", "min_interval",
        "booster_not_started", "booster_interval", "booster_age_below_minimum",
        "other_vaccine_interval", "deferred",
    }
)

#: A floor under the data: which refusals may be overridden is the series' ``overridable_reasons``
#: (data), but a products file that lists one of these is rejected on load. Each would make the
#: dose meaningless or unsafe whoever signs for it: a person not yet born, a product the catalogue
#: does not know, schedules or platforms mixed, an interval the product's evidence does not cover,
#: a series already complete, or an age below anything the product was ever authorised for.
NEVER_OVERRIDABLE: frozenset[str] = frozenset(
    {
        "not_born", "unknown_product", "schedule_mix", "platform_mix", "min_interval",
        "series_complete", "age_below_product_minimum",
    }
)


# -- rule data ----------------------------------------------------------------------------


def _date_or_none(value: str | None) -> date | None:
    return None if value is None else date.fromisoformat(value)


def _iso_or_none(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


@dataclass(frozen=True, slots=True)
class SeriesSettings:
    """Settings of a series (a disease's campaign) that apply to every product in it."""

    code: str
    name_zh: str
    name_en: str
    other_vaccine_more_than_days: int
    """Other vaccines must be *more than* this many days away (guideline: 大于14天)."""
    overridable_reasons: frozenset[str] = frozenset()
    """Reason codes a site manager may override with a written reason; every other obstacle is
    hard for everyone. Stored settings without the key override nothing (the safe reading)."""

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> SeriesSettings:
        overridable = frozenset(d.get("overridable_reasons", ()))
        unknown = overridable - OBSTACLE_CODES
        if unknown:
            raise ValueError(f"{d['code']}: overridable_reasons names unknown obstacles {sorted(unknown)}")
        never = overridable & NEVER_OVERRIDABLE
        if never:
            raise ValueError(f"{d['code']}: {sorted(never)} can never be overridden")
        return cls(
            code=d["code"],
            name_zh=d["name_zh"],
            name_en=d["name_en"],
            other_vaccine_more_than_days=int(d["other_vaccine_more_than_days"]),
            overridable_reasons=overridable,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "other_vaccine_more_than_days": self.other_vaccine_more_than_days,
            "overridable_reasons": sorted(self.overridable_reasons),
        }


@dataclass(frozen=True, slots=True)
class DoseRule:
    """Timing of one dose of a primary series."""

    dose_number: int
    min_interval_days: int | None
    """Hard lower bound from the previous dose (``None`` for dose 1)."""
    due_by_days_from_dose1: int | None
    """Deadline counted from dose 1; passing it flags the dose overdue, never blocks it."""


@dataclass(frozen=True, slots=True)
class AgeRule:
    """An age band in which the product may be given, from an effective date."""

    effective_from: date | None
    """``None``: from the start of the campaign."""
    min_age_years: int
    max_age_years: int | None
    """Inclusive; ``None``: no upper limit."""

    @property
    def age_group(self) -> str:
        return (
            f"{self.min_age_years}+"
            if self.max_age_years is None
            else f"{self.min_age_years}-{self.max_age_years}"
        )


@dataclass(frozen=True, slots=True)
class BoosterRule:
    """When a product may be given as a booster after a completed primary series.

    ``homologous``: the booster is the product of the series' last dose, or of its first dose
    when the series mixed products (the guideline's fallback "if that is unavailable"; stock is
    not known here, so both are accepted and the fallback is noted).
    ``sequential``: any product carrying the rule, after a series of ``primary_platforms``.
    """

    kind: BoosterKind
    effective_from: date
    min_age_years: int
    min_days_after_primary: int
    """Counted from the dose that completed the primary series."""
    primary_platforms: tuple[str, ...]
    max_prior_boosters: int
    """The rule applies only to people with at most this many boosters already."""


@dataclass(frozen=True, slots=True)
class ProductRule:
    """Everything the rules need to know about one product, rebuilt from a plain dict."""

    code: str
    name_zh: str
    name_en: str
    manufacturer_en: str
    platform: str
    series: str
    doses: tuple[DoseRule, ...]
    age_rules: tuple[AgeRule, ...]
    booster_rules: tuple[BoosterRule, ...]
    series_settings: SeriesSettings
    """Copied into each product so that one stored dict is enough to rebuild the rule."""
    approved_on: date | None = None
    """The day the product was first authorised for use (emergency use or conditional
    marketing approval, whichever came first); no dose of it is recorded before that day."""

    @property
    def lowest_min_age(self) -> int:
        """The lowest minimum age any of the product's age rules has ever allowed."""
        return min(r.min_age_years for r in self.age_rules)

    @property
    def doses_in_series(self) -> int:
        return len(self.doses)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ProductRule:
        """Rebuild from :meth:`to_dict` output (or a product of ``products.json`` with its
        ``series_settings`` added); raise ``ValueError`` if the dict is inconsistent."""
        doses = tuple(
            DoseRule(
                dose_number=int(x["dose_number"]),
                min_interval_days=x.get("min_interval_days"),
                due_by_days_from_dose1=x.get("due_by_days_from_dose1"),
            )
            for x in d["doses"]
        )
        code = d["code"]
        if [x.dose_number for x in doses] != list(range(1, len(doses) + 1)):
            raise ValueError(f"{code}: doses must be numbered 1..n in order")
        if int(d.get("doses_in_series", len(doses))) != len(doses):
            raise ValueError(f"{code}: doses_in_series does not match the number of doses")
        if doses and (doses[0].min_interval_days is not None or doses[0].due_by_days_from_dose1 is not None):
            raise ValueError(f"{code}: dose 1 has no interval and no due date")
        if not d["age_rules"]:
            raise ValueError(f"{code}: at least one age rule is needed")
        boosters = tuple(
            BoosterRule(
                kind=x["kind"],
                effective_from=date.fromisoformat(x["effective_from"]),
                min_age_years=int(x["min_age_years"]),
                min_days_after_primary=int(x["min_days_after_primary"]),
                primary_platforms=tuple(x["primary_platforms"]),
                max_prior_boosters=int(x["max_prior_boosters"]),
            )
            for x in d.get("booster_rules", ())
        )
        for booster in boosters:
            if booster.kind not in ("homologous", "sequential"):
                raise ValueError(f"{code}: unknown booster kind {booster.kind!r}")
        settings = SeriesSettings.from_dict(d["series_settings"])
        if settings.code != d["series"]:
            raise ValueError(f"{code}: series_settings are for {settings.code}, not {d['series']}")
        return cls(
            code=code,
            name_zh=d["name_zh"],
            name_en=d["name_en"],
            manufacturer_en=d["manufacturer_en"],
            platform=d["platform"],
            series=d["series"],
            doses=doses,
            age_rules=tuple(
                AgeRule(
                    effective_from=_date_or_none(x.get("effective_from")),
                    min_age_years=int(x["min_age_years"]),
                    max_age_years=x.get("max_age_years"),
                )
                for x in d["age_rules"]
            ),
            booster_rules=boosters,
            series_settings=settings,
            approved_on=_date_or_none(d.get("approved_on")),
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict that :meth:`from_dict` turns back into an equal rule."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "manufacturer_en": self.manufacturer_en,
            "platform": self.platform,
            "series": self.series,
            "doses_in_series": self.doses_in_series,
            "doses": [
                {
                    "dose_number": x.dose_number,
                    "min_interval_days": x.min_interval_days,
                    "due_by_days_from_dose1": x.due_by_days_from_dose1,
                }
                for x in self.doses
            ],
            "age_rules": [
                {
                    "effective_from": _iso_or_none(x.effective_from),
                    "min_age_years": x.min_age_years,
                    "max_age_years": x.max_age_years,
                }
                for x in self.age_rules
            ],
            "booster_rules": [
                {
                    "kind": x.kind,
                    "effective_from": x.effective_from.isoformat(),
                    "min_age_years": x.min_age_years,
                    "min_days_after_primary": x.min_days_after_primary,
                    "primary_platforms": list(x.primary_platforms),
                    "max_prior_boosters": x.max_prior_boosters,
                }
                for x in self.booster_rules
            ],
            "series_settings": self.series_settings.to_dict(),
            "approved_on": _iso_or_none(self.approved_on),
        }


def load_products(path: Path | str | None = None) -> dict[str, ProductRule]:
    """Read a products file (default: the bundled ``data/products.json``), keyed by code.

    The file holds series settings once under ``series``; each product gets a copy of its
    series' settings so that ``ProductRule.to_dict()`` is self-contained.
    """
    with open(path or DEFAULT_PRODUCTS_PATH, encoding="utf-8") as f:
        data = json.load(f)
    products: dict[str, ProductRule] = {}
    for raw in data["products"]:
        rule = ProductRule.from_dict({**raw, "series_settings": data["series"][raw["series"]]})
        if rule.code in products:
            raise ValueError(f"duplicate product code {rule.code}")
        products[rule.code] = rule
    return products


# -- the person's record ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PriorDose:
    """A dose already recorded for the person."""

    product_code: str
    dose_number: int
    kind: DoseKind
    given_on: date
    series: str | None = None
    """``None``: the series of the product (looked up in the catalogue)."""


@dataclass(frozen=True, slots=True)
class OtherVaccination:
    """A vaccine or immunoglobulin outside this series, e.g. from the screening interview."""

    given_on: date
    exempt: bool = False
    """Post-exposure rabies or tetanus vaccine, or immunoglobulin: no interval needed."""
    description: str = ""


@dataclass(frozen=True, slots=True)
class ActiveDeferral:
    """A recorded contraindication or deferral (fever, pregnancy, allergy ...)."""

    code: str
    until: date | None = None
    """Last day of the deferral, inclusive; ``None``: until a clinician lifts it."""


# -- the verdict --------------------------------------------------------------------------


@dataclass(frozen=True)
class Reason:
    """Why a dose is blocked, or a fact about an allowed dose; ``code`` is a key of
    :data:`REASON_MESSAGES` and ``params`` fill its template."""

    code: str
    params: dict[str, str | int] = field(default_factory=dict)

    @property
    def message_en(self) -> str:
        return REASON_MESSAGES[self.code].format(**self.params)


@dataclass(frozen=True)
class Verdict:
    """The answer of :func:`assess`."""

    status: Status
    dose_number: int | None
    """The dose this would be, counting every dose of the series; ``None`` when refused."""
    kind: DoseKind | None
    earliest_date: date | None
    """For ``not_yet``: the first day on which every obstacle has gone; otherwise ``None``."""
    due_by: date | None
    overdue: bool
    reasons: tuple[Reason, ...] = ()
    """Obstacles; empty when eligible."""
    notes: tuple[Reason, ...] = ()
    """Facts about the dose worth recording (overdue, product switch, booster kind)."""
    overridable_reasons: frozenset[str] = frozenset()
    """The series' overridable reason codes at the time of the assessment (data)."""

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(r.code for r in self.reasons)

    def is_overridable(self, reason: Reason) -> bool:
        """Whether this obstacle may be overridden by a site manager with a written reason."""
        return reason.code in self.overridable_reasons

    @property
    def overridable(self) -> bool:
        """Whether the whole refusal may be overridden: the dose is blocked and every obstacle is
        overridable (one hard reason makes the refusal hard for everyone)."""
        return self.status != "eligible" and bool(self.reasons) and all(
            self.is_overridable(r) for r in self.reasons
        )

    @property
    def hard_reasons(self) -> tuple[Reason, ...]:
        return tuple(r for r in self.reasons if not self.is_overridable(r))


# -- age ----------------------------------------------------------------------------------


def age_on(birth_date: date, on: date) -> int:
    """Age in completed years on ``on``."""
    return on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))


def date_of_age(birth_date: date, years: int) -> date:
    """The day on which a person reaches ``years`` (29 February -> 1 March in common years)."""
    year = birth_date.year + years
    try:
        return birth_date.replace(year=year)
    except ValueError:
        return date(year, 3, 1)


def age_band_open(product: ProductRule, on: date, age: int) -> bool:
    """Whether an age rule of ``product`` in force on ``on`` covers ``age`` (completed years).

    Then the product's age check finds nothing for any person of that age on that day, whatever
    the birth date (``date_of_age(b, y) <= on`` exactly when ``age_on(b, on) >= y``), so an
    assessment of a primary dose depends on the birth date only through ``age``: the batch path
    shares such verdicts between people of one age (vaccination/tests/test_verdict_memo.py).
    """
    return age >= 0 and any(
        (rule.effective_from is None or rule.effective_from <= on)
        and rule.min_age_years <= age
        and (rule.max_age_years is None or age <= rule.max_age_years)
        for rule in product.age_rules
    )


# -- assessment ---------------------------------------------------------------------------


@dataclass
class _Findings:
    """Obstacles and notes collected while the rules are checked."""

    refusals: list[Reason] = field(default_factory=list)
    waits: list[tuple[Reason, date]] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)

    def wait(self, code: str, earliest: date, **params: str | int) -> None:
        self.waits.append((Reason(code, {**params, "earliest_date": earliest.isoformat()}), earliest))


def _check_product_age(product: ProductRule, birth_date: date, on: date, findings: _Findings) -> None:
    # The earliest day on which some age band is both in force and covers the person; bands
    # are contiguous in the data, so once reached the person stays covered.
    best: tuple[date, AgeRule] | None = None
    for rule in product.age_rules:
        start = max(on, rule.effective_from or on, date_of_age(birth_date, rule.min_age_years))
        if rule.max_age_years is not None and start >= date_of_age(birth_date, rule.max_age_years + 1):
            continue
        if best is None or start < best[0]:
            best = (start, rule)
    if best is None:
        findings.refusals.append(
            Reason("age_above_maximum", {"product": product.code, "age": age_on(birth_date, on)})
        )
        return
    start, rule = best
    if start <= on:
        return
    age = age_on(birth_date, on)
    if age < product.lowest_min_age:
        # Younger than any rule of the product has ever allowed: no approval covers this person.
        findings.wait("age_below_product_minimum", start, product=product.code, min_age=product.lowest_min_age)
    elif any(r.min_age_years <= age and (r.max_age_years is None or age <= r.max_age_years)
             for r in product.age_rules):
        # The product is approved for this age by a rule not yet in force (e.g. 12-17 on BIBP
        # from 2021-07-01): the age band the person is waiting for opens on ``start``.
        findings.wait("age_group_not_yet_open", start, product=product.code, age_group=rule.age_group)
    else:
        findings.wait("age_below_minimum", start, product=product.code, min_age=rule.min_age_years)


def _check_other_vaccines(
    settings: SeriesSettings, on: date, given_on: Sequence[date], findings: _Findings
) -> None:
    # Guideline 2021-03-29: more than 14 days from other vaccines, so day 15 is the first.
    if not given_on:
        return
    latest = max(given_on)
    earliest = latest + timedelta(days=settings.other_vaccine_more_than_days + 1)
    if on < earliest:
        findings.wait(
            "other_vaccine_interval",
            earliest,
            days=settings.other_vaccine_more_than_days,
            other_given_on=latest.isoformat(),
        )


def _check_deferrals(on: date, deferrals: Sequence[ActiveDeferral], findings: _Findings) -> None:
    for deferral in deferrals:
        if deferral.until is None:
            findings.refusals.append(Reason("deferred_indefinitely", {"deferral_code": deferral.code}))
        elif on <= deferral.until:
            findings.wait(
                "deferred",
                deferral.until + timedelta(days=1),
                deferral_code=deferral.code,
                until=deferral.until.isoformat(),
            )


def assess(
    *,
    product: ProductRule,
    on: date,
    birth_date: date,
    history: Sequence[PriorDose],
    products: Mapping[str, ProductRule],
    other_vaccinations: Sequence[OtherVaccination] = (),
    deferrals: Sequence[ActiveDeferral] = (),
    series_settings: SeriesSettings | None = None,
) -> Verdict:
    """Decide whether ``product`` may be given to the person on ``on``.

    ``history`` is the person's recorded doses (any series, any order); ``products`` resolves
    their product codes. ``series_settings`` overrides the product's copy of its series'
    settings (a campaign-level setting). See the module docstring for the meaning of the
    verdicts and the decisions taken.
    """
    if birth_date > on:
        return _verdict(
            _Findings(
                refusals=[Reason("not_born", {"birth_date": birth_date.isoformat(), "on": on.isoformat()})]
            ),
            None,
            None,
            None,
            on,
            (series_settings or product.series_settings).overridable_reasons,
        )
    settings = series_settings or product.series_settings
    findings = _Findings()

    series_doses: list[PriorDose] = []
    other_dates = [v.given_on for v in other_vaccinations if not v.exempt and v.given_on <= on]
    for dose in history:
        if dose.given_on > on:
            continue
        rule = products.get(dose.product_code)
        dose_series = dose.series or (rule.series if rule else None)
        if dose_series is not None and dose_series != product.series:
            other_dates.append(dose.given_on)
        elif rule is None:
            findings.refusals.append(Reason("unknown_product", {"product_code": dose.product_code}))
        else:
            series_doses.append(dose)
    if findings.refusals:
        return _verdict(findings, None, None, None, on, settings.overridable_reasons)

    series_doses.sort(key=lambda d: (d.given_on, d.dose_number))
    primaries = [d for d in series_doses if d.kind == "primary"]
    boosters = [d for d in series_doses if d.kind == "booster"]
    required = products[primaries[0].product_code].doses_in_series if primaries else product.doses_in_series

    _check_product_age(product, birth_date, on, findings)
    _check_other_vaccines(settings, on, other_dates, findings)
    _check_deferrals(on, deferrals, findings)

    if len(primaries) < required:
        kind: DoseKind = "primary"
        dose_number = len(primaries) + 1
        due_by = _check_primary(product, on, primaries, products, findings)
    else:
        kind = "booster"
        dose_number = len(primaries) + len(boosters) + 1
        due_by = None
        _check_booster(product, on, birth_date, primaries[:required], boosters, products, findings)
    return _verdict(findings, dose_number, kind, due_by, on, settings.overridable_reasons)


def _check_primary(
    product: ProductRule,
    on: date,
    primaries: Sequence[PriorDose],
    products: Mapping[str, ProductRule],
    findings: _Findings,
) -> date | None:
    """Rules for the next dose of a primary series; return its due-by date."""
    if not primaries:
        return None
    # Guideline 2021-03-29: another product of the same platform may complete a series when
    # supply runs short or the person moved; the 2-dose and 3-dose schedules never mix.
    mixes: dict[str, Reason] = {}
    for prior in (products[code] for code in dict.fromkeys(d.product_code for d in primaries)):
        if prior.doses_in_series != product.doses_in_series:
            mixes.setdefault(
                "schedule_mix",
                Reason(
                    "schedule_mix",
                    {
                        "product": product.code,
                        "product_doses": product.doses_in_series,
                        "series_product": prior.code,
                        "series_doses": prior.doses_in_series,
                    },
                ),
            )
        if prior.platform != product.platform:
            mixes.setdefault(
                "platform_mix",
                Reason(
                    "platform_mix",
                    {
                        "product": product.code,
                        "platform": product.platform,
                        "series_product": prior.code,
                        "series_platform": prior.platform,
                    },
                ),
            )
    if mixes:
        findings.refusals.extend(mixes.values())
        return None

    number = len(primaries) + 1
    dose_rule = product.doses[number - 1]
    previous = primaries[-1]
    if dose_rule.min_interval_days is not None:
        earliest = previous.given_on + timedelta(days=dose_rule.min_interval_days)
        if on < earliest:
            findings.wait(
                "min_interval",
                earliest,
                dose_number=number,
                days=dose_rule.min_interval_days,
                previous_dose_date=previous.given_on.isoformat(),
            )
    if previous.product_code != product.code:
        findings.notes.append(
            Reason("product_switch", {"product": product.code, "previous_product": previous.product_code})
        )
    if dose_rule.due_by_days_from_dose1 is None:
        return None
    due_by = primaries[0].given_on + timedelta(days=dose_rule.due_by_days_from_dose1)
    if on > due_by:
        # A late dose is given as soon as possible; the series is not restarted.
        findings.notes.append(
            Reason(
                "dose_overdue",
                {"dose_number": number, "due_by": due_by.isoformat(), "days_late": (on - due_by).days},
            )
        )
    return due_by


def _check_booster(
    product: ProductRule,
    on: date,
    birth_date: date,
    primaries: Sequence[PriorDose],
    boosters: Sequence[PriorDose],
    products: Mapping[str, ProductRule],
    findings: _Findings,
) -> None:
    """Rules for a dose after a completed primary series."""
    completed_on = primaries[-1].given_on
    series_platforms = {products[d.product_code].platform for d in primaries}
    same_product = {primaries[-1].product_code, primaries[0].product_code}

    def applies(candidate: ProductRule, rule: BoosterRule) -> bool:
        return (
            series_platforms <= set(rule.primary_platforms)
            and len(boosters) <= rule.max_prior_boosters
            and (rule.kind != "homologous" or candidate.code in same_product)
        )

    candidates = {p.code: p for p in products.values() if p.series == product.series}
    candidates[product.code] = product
    allowed = sorted(code for code, p in candidates.items() if any(applies(p, r) for r in p.booster_rules))
    if not allowed:
        findings.refusals.append(Reason("series_complete"))
        return
    rules = [r for r in product.booster_rules if applies(product, r)]
    if not rules:
        findings.refusals.append(
            Reason("booster_product_not_allowed", {"product": product.code, "allowed": ", ".join(allowed)})
        )
        return

    def obstacles(rule: BoosterRule) -> list[tuple[str, date, dict[str, str | int]]]:
        return [
            ("booster_not_started", rule.effective_from, {}),
            (
                "booster_interval",
                completed_on + timedelta(days=rule.min_days_after_primary),
                {"days": rule.min_days_after_primary, "completed_on": completed_on.isoformat()},
            ),
            (
                "booster_age_below_minimum",
                date_of_age(birth_date, rule.min_age_years),
                {"min_age": rule.min_age_years},
            ),
        ]

    # The rule that opens first decides; the order in the data breaks ties.
    rule = min(rules, key=lambda r: max(when for _, when, _ in obstacles(r)))
    for code, when, params in obstacles(rule):
        if when > on:
            findings.wait(code, when, **params)
    if rule.kind == "homologous":
        findings.notes.append(Reason("booster_homologous"))
        if product.code != primaries[-1].product_code:
            findings.notes.append(
                Reason(
                    "booster_first_dose_product",
                    {"product": product.code, "last_product": primaries[-1].product_code},
                )
            )
    else:
        platform = ", ".join(sorted(series_platforms))
        findings.notes.append(
            Reason("booster_sequential", {"product": product.code, "primary_platform": platform})
        )


def _verdict(
    findings: _Findings,
    dose_number: int | None,
    kind: DoseKind | None,
    due_by: date | None,
    on: date,
    overridable: frozenset[str] = frozenset(),
) -> Verdict:
    overdue = due_by is not None and on > due_by
    waits = tuple(reason for reason, _ in findings.waits)
    if findings.refusals:
        return Verdict(
            status="refused",
            dose_number=None,
            kind=None,
            earliest_date=None,
            due_by=None,
            overdue=False,
            reasons=(*findings.refusals, *waits),
            overridable_reasons=overridable,
        )
    if findings.waits:
        return Verdict(
            status="not_yet",
            dose_number=dose_number,
            kind=kind,
            earliest_date=max(when for _, when in findings.waits),
            due_by=due_by,
            overdue=overdue,
            reasons=waits,
            notes=tuple(findings.notes),
            overridable_reasons=overridable,
        )
    return Verdict(
        status="eligible",
        dose_number=dose_number,
        kind=kind,
        earliest_date=None,
        due_by=due_by,
        overdue=overdue,
        notes=tuple(findings.notes),
        overridable_reasons=overridable,
    )
