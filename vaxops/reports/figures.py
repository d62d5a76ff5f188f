"""The report's own figures at a cut-off: doses (the day's and cumulative), coverage by residence
(18+ and 60+, by child division and by age band), doses by child division, AEFI, stock and days
of supply, open cold-chain excursions.

Doses and coverage come from ``campaign.services.summary`` (as administered by the cut-off), so
the report and ``GET /api/v1/stats/summary`` cannot disagree; the rest reads bounded ranges only:
the counters for whole days, one day of dose rows, the ledger lines after the cut-off, the
excursions and AEFI reports of the subtree. Nothing here writes; every read is bounded by the
report's division (a report is per division: the caller has checked the user's area).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import Case, Count, F, Q, Sum, Value, When
from django.db.models.functions import Substr
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vaxops.campaign import services as campaign
from vaxops.campaign.models import DoseCounter, ResidenceCounter
from vaxops.campaign.report import grouped
from vaxops.catalog.models import Product
from vaxops.core.formats import format_datetime
from vaxops.regions.models import Division, Level
from vaxops.reports.sections import ReportContext, Section
from vaxops.vaccination.models import DoseRecord, DoseStatus

# The people figures a report publishes, in its order (the keys of ``campaign.services.METRICS``).
METRICS = ("doses_total", "first_dose_people", "second_dose_people", "completed_series_people", "booster_people")
METRIC_NAMES = {
    "doses_total": gettext_lazy("Doses given"),
    "first_dose_people": gettext_lazy("People with a first dose"),
    "second_dose_people": gettext_lazy("People with a second dose"),
    "completed_series_people": gettext_lazy("People with a completed series"),
    "booster_people": gettext_lazy("People with a booster"),
}
# Age bands with a vaccine (0-2 has none), and the 18+ line the reports publish.
AGE_BANDS = ("3-11", "12-17", "18-59", "60+")
AGE_BAND_NAMES = {
    "3-11": gettext_lazy("Aged 3–11"),
    "12-17": gettext_lazy("Aged 12–17"),
    "18-59": gettext_lazy("Aged 18–59"),
    "60+": gettext_lazy("Aged 60 and over"),
    "18+": gettext_lazy("Aged 18 and over"),
}
BAND_POPULATION = {"3-11": "pop_3_11", "12-17": "pop_12_17", "18-59": "pop_18_59", "60+": "pop_60_plus"}
# Days of supply are read at the rate of the last whole days before the report day.
RATE_DAYS = 7


def ratio(people: int, population: int) -> float | None:
    return round(people / population, 4) if population > 0 else None


@dataclass
class Figures:
    """The summaries a report is made of: at the cut-off and just before the day began."""

    ctx: ReportContext
    cumulative: dict[str, Any]
    before: dict[str, Any]

    @classmethod
    def of(cls, ctx: ReportContext) -> Figures:
        # "Before the day" is the last instant of the day before, so a dose at 00:00 is the day's.
        before = ctx.start - dt.timedelta(microseconds=1)
        return cls(ctx, campaign.summary(ctx.division, ctx.cutoff), campaign.summary(ctx.division, before))

    def today(self, metric: str, row: str | None = None) -> int:
        return self._pick(self.cumulative, row)[metric] - self._pick(self.before, row)[metric]

    @staticmethod
    def _pick(figures: dict[str, Any], row: str | None) -> dict[str, Any]:
        if row is None:
            return figures
        if row == "":
            return figures["unassigned"]
        return next(c for c in figures["children"] if c["code"] == row)


# -- doses ---------------------------------------------------------------------------------


def doses_section(f: Figures) -> Section:
    today = {m: f.today(m) for m in METRICS}
    cumulative = {m: f.cumulative[m] for m in METRICS}
    return Section(
        key="doses", title=_("Doses and people vaccinated"),
        columns=[_("Figure"), _("Today (to the cut-off)"), _("Cumulative")],
        rows=[[str(METRIC_NAMES[m]), today[m], cumulative[m]] for m in METRICS],
        figures={"today": today, "cumulative": cumulative, "late_entries_at_cutoff": f.cumulative["late_entries"]},
    )


def _child_label(division: Division) -> str:
    child = division.children.order_by("code").first()
    return str(Level(child.level).label) if child is not None else _("division")


def by_division_section(f: Figures) -> Section:
    """Doses given at the sites of each child division (workload), with the "not assigned" row."""
    rows, items = [], []
    for row in [*f.cumulative["children"], f.cumulative["unassigned"]]:
        code = row["code"]
        item = {"code": code, "name": row["name"], "today": f.today("doses_total", code),
                **{m: row[m] for m in METRICS}}
        if not code and (not f.cumulative["children"] or not any(item[m] for m in METRICS) and not item["today"]):
            continue  # an empty "not assigned" row says nothing; without children it is the total
        items.append(item)
        rows.append([row["name"], item["today"], *(row[m] for m in METRICS)])
    rows.append([_("Total"), f.today("doses_total"), *(f.cumulative[m] for m in METRICS)])
    return Section(
        key="by_division",
        title=_("Doses given at the sites, by %(level)s") % {"level": _child_label(f.ctx.division)},
        columns=[_("Division"), _("Doses today"), _("Doses"), _("First dose"), _("Second dose"),
                 _("Completed series"), _("Booster")],
        rows=rows, figures={"children": items},
    )


# -- coverage by residence -------------------------------------------------------------------


def residents_by_band(ctx: ReportContext) -> dict[str, dict[str, dict[str, int]]]:
    """Residents of the subtree vaccinated by the cut-off (as administered), by the child division
    they live in (its path; "" for "not assigned to a child") and age band: {child: {band: metrics}}.

    The same two reads as the summary's residence view: the residence counters for the whole
    days before the cut-off's day, and that one day's dose rows up to the cut-off.
    """
    division = ctx.division
    at = ctx.cutoff.astimezone(campaign.TZ)
    day = at.date()
    day_start = dt.datetime.combine(day, dt.time.min, tzinfo=campaign.TZ)
    children = {c.path for c in division.children.all()}
    child_len = len(next(iter(children))) if children else len(division.path)
    # The summary's own helpers, so "the residents of a subtree" has one definition (a dose without
    # a residence belongs to its site's county).
    counties = campaign._counties(division)
    out: dict[str, dict[str, dict[str, int]]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(METRICS, 0)))

    def add(path: str | None, band: str, row: dict[str, Any]) -> None:
        if not path or not path.startswith(division.path):
            return
        child = path[:child_len]
        target = out[child if child in children else ""][band]
        for m in METRICS:
            target[m] += row.get(m) or 0

    counted = {m: Sum("count", filter=campaign.METRICS[m]) for m in METRICS}
    for row in (ResidenceCounter.objects.filter(path__startswith=division.path, day__lt=day)
                .values("age_band", child=Substr("path", 1, child_len)).annotate(**counted).order_by()):
        add(row["child"], row["age_band"], row)
    rows = {m: Count("id", filter=campaign.METRICS[m]) for m in METRICS}
    orphan = Case(When(residence_division__isnull=True, then=F("county_code")), default=Value(""))
    today = (DoseRecord.objects.filter(campaign._residents_of(division, counties), status=DoseStatus.VALID,
                                       administered_at__gte=day_start, administered_at__lte=at)
             .values("age_band", child=Substr("residence_division__path", 1, child_len), orphan=orphan)
             .annotate(**rows).order_by())
    for row in today:
        add(campaign._home_path(row["child"], row["orphan"], counties), row["age_band"], row)
    return out


def whole_bands(by_band: dict[str, dict[str, dict[str, int]]]) -> dict[str, dict[str, int]]:
    """The subtree's figures by age band (every child and the "not assigned" row added up)."""
    whole: dict[str, dict[str, int]] = {b: dict.fromkeys(METRICS, 0) for b in AGE_BANDS}
    for bands in by_band.values():
        for band, metrics in bands.items():
            target = whole.setdefault(band, dict.fromkeys(METRICS, 0))
            for m in METRICS:
                target[m] += metrics[m]
    return whole


def _band_total(bands: dict[str, dict[str, int]], names: tuple[str, ...]) -> dict[str, int]:
    return {m: sum(bands.get(b, {}).get(m, 0) for b in names) for m in METRICS}


def coverage_section(f: Figures, by_band: dict[str, dict[str, dict[str, int]]]) -> Section:
    """Residents vaccinated, where they live: 18+ (the summary's residence figures) and 60+."""
    division = f.ctx.division
    children = {c.code: c for c in division.children.all()}
    rows, items = [], []

    def line(name: str, code: str, residence: dict[str, Any], bands: dict[str, dict[str, int]], pop60: int):
        sixty = bands.get("60+", {}).get("first_dose_people", 0)
        item = {"code": code, "name": name, **{m: residence[m] for m in campaign.RESIDENCE_METRICS},
                "population_18_plus": residence["population_18_plus"],
                "coverage_18_plus": residence["first_dose_coverage_18_plus"],
                "first_dose_people_60_plus": sixty, "population_60_plus": pop60,
                "coverage_60_plus": ratio(sixty, pop60)}
        items.append(item)
        rows.append([name, item["first_dose_people"], item["completed_series_people"], item["booster_people"],
                     item["population_18_plus"], item["coverage_18_plus"], sixty, pop60, item["coverage_60_plus"]])
        return item

    for child in f.cumulative["children"]:
        d = children[child["code"]]
        line(child["name"], child["code"], child["residence"], by_band.get(d.path, {}), d.pop_60_plus)
    rest = f.cumulative["unassigned"]
    rest_60 = division.pop_60_plus - sum(c.pop_60_plus for c in children.values())
    if children and (rest["residence"]["first_dose_people"] or rest["population_18_plus"] > 0):
        line(rest["name"], "", rest["residence"], by_band.get("", {}), rest_60)
    total = line(_("Total"), division.code, f.cumulative["residence"], whole_bands(by_band), division.pop_60_plus)
    items.pop()
    return Section(
        key="coverage", title=_("Residents vaccinated, by where they live (coverage)"),
        columns=[_("Division"), _("First dose"), _("Completed series"), _("Booster"), _("Population 18+"),
                 _("Coverage 18+"), _("First dose, 60+"), _("Population 60+"), _("Coverage 60+")],
        rows=rows, figures={"total": total, "children": items},
    )


def age_band_section(f: Figures, by_band: dict[str, dict[str, dict[str, int]]]) -> Section:
    """Residents vaccinated by age band (at the dose), against the band's resident population."""
    division = f.ctx.division
    whole = whole_bands(by_band)
    rows, items = [], []
    for band in (*AGE_BANDS, "18+"):
        metrics = _band_total(whole, ("18-59", "60+")) if band == "18+" else whole[band]
        population = (division.population_18_plus if band == "18+"
                      else getattr(division, BAND_POPULATION[band]))
        item = {"band": band, "first_dose_people": metrics["first_dose_people"],
                "completed_series_people": metrics["completed_series_people"],
                "booster_people": metrics["booster_people"], "population": population,
                "coverage": ratio(metrics["first_dose_people"], population)}
        items.append(item)
        rows.append([str(AGE_BAND_NAMES[band]), item["first_dose_people"], item["completed_series_people"],
                     item["booster_people"], population, item["coverage"]])
    return Section(
        key="age_bands", title=_("Residents vaccinated, by age band"),
        columns=[_("Age band"), _("First dose"), _("Completed series"), _("Booster"), _("Population"),
                 _("Coverage")],
        rows=rows, figures={"bands": items},
    )


# -- safety, stock, cold chain -----------------------------------------------------------------


def aefi_section(f: Figures) -> Section:
    """AEFI reports of the subtree (placed at the site of the dose) reported by the cut-off."""
    from vaxops.safety.models import AefiReport
    from vaxops.safety.stats import per_100000

    ctx = f.ctx
    reports = AefiReport.objects.filter(division__path__startswith=ctx.division.path, reported_at__lte=ctx.cutoff)
    day = Q(reported_at__gte=ctx.start)
    # (The aliases must not be a field's name: "serious" is one.)
    counted = reports.aggregate(
        n=Count("pk"), n_serious=Count("pk", filter=Q(serious=True)),
        n_today=Count("pk", filter=day), n_serious_today=Count("pk", filter=day & Q(serious=True)),
    )
    counts = {"reported": counted["n"], "serious": counted["n_serious"], "reported_today": counted["n_today"],
              "serious_today": counted["n_serious_today"]}
    doses = f.cumulative["doses_total"]
    figures = {**counts, "doses": doses, "per_100000": per_100000(counts["reported"], doses),
               "serious_per_100000": per_100000(counts["serious"], doses)}
    return Section(
        key="aefi", title=_("Adverse events following immunisation (AEFI)"),
        columns=[_("Figure"), _("Today (to the cut-off)"), _("Cumulative")],
        rows=[[_("AEFI reported"), counts["reported_today"], counts["reported"]],
              [_("of which serious"), counts["serious_today"], counts["serious"]],
              [_("Reported per 100,000 doses"), None, figures["per_100000"]],
              [_("Serious per 100,000 doses"), None, figures["serious_per_100000"]]],
        figures=figures,
    )


def stock_section(ctx: ReportContext) -> Section:
    """Doses on hand in the subtree's stores at the cut-off, by product, and how many days they
    last at the last ``RATE_DAYS`` whole days' rate of doses given at its sites.

    On hand at the cut-off = the balances now minus the ledger lines that occurred after it
    (the lines since the cut-off only, not the ledger's history).
    """
    from vaxops.supply.models import StockBalance, StockLine

    path = ctx.division.path
    on_hand: dict[str, int] = defaultdict(int)
    for code, n in (StockBalance.objects.filter(store__division__path__startswith=path)
                    .values_list("lot__product__code").annotate(n=Sum("on_hand")).order_by()):
        on_hand[code] += n or 0
    for code, n in (StockLine.objects.filter(store__division__path__startswith=path, occurred_at__gt=ctx.cutoff)
                    .values_list("lot__product__code").annotate(n=Sum("quantity")).order_by()):
        on_hand[code] -= n or 0
    first = ctx.day - dt.timedelta(days=RATE_DAYS)
    used = dict(DoseCounter.objects.filter(path__startswith=path, day__gte=first, day__lt=ctx.day)
                .values_list("product_code").annotate(n=Sum("count")).order_by())
    names = {p.code: p.name for p in Product.objects.filter(code__in=set(on_hand) | set(used))}
    rows, items = [], []
    for code in sorted(set(on_hand) | set(used)):
        held, n = on_hand.get(code, 0), used.get(code, 0)
        if not held and not n:
            continue
        rate = n / RATE_DAYS
        # In whole numbers (held ÷ (n ÷ 7) rounded down), so no float rounding moves a day.
        days = held * RATE_DAYS // n if n > 0 else None
        items.append({"product": code, "product_name": names.get(code, code), "on_hand": held,
                      "daily_rate": round(rate, 1), "days_of_supply": days})
        rows.append([names.get(code, code), held, round(rate, 1), days])
    total = sum(i["on_hand"] for i in items)
    n = sum(used.values())
    rate = n / RATE_DAYS
    total_days = total * RATE_DAYS // n if n > 0 else None
    rows.append([_("Total"), total, round(rate, 1), total_days])
    return Section(
        key="stock", title=_("Stock on hand and days of supply"),
        columns=[_("Product"), _("Doses on hand"), _("Doses per day (last 7 days)"), _("Days of supply")],
        rows=rows, figures={"on_hand": total, "daily_rate": round(rate, 1), "days_of_supply": total_days,
                            "by_product": items},
        sentence=_("Stock on hand: %(doses)s doses.") % {"doses": grouped(total)},
    )


def excursions_section(ctx: ReportContext) -> Section:
    """Cold-chain excursions of the subtree's stores that were open at the cut-off (detected by
    then and not yet reviewed)."""
    from vaxops.supply.coldchain import rule_name
    from vaxops.supply.models import Excursion

    open_then = (Excursion.objects.filter(store__division__path__startswith=ctx.division.path,
                                          detected_at__lte=ctx.cutoff)
                 .filter(Q(reviewed_at__isnull=True) | Q(reviewed_at__gt=ctx.cutoff))
                 .select_related("store").order_by("started_at", "pk"))
    rows, items = [], []
    for e in open_then:
        peak = float(e.peak_celsius) if e.peak_celsius is not None else None
        items.append({"store": e.store.code, "store_name": e.store.name, "rule": e.rule,
                      "started_at": e.started_at.isoformat(), "peak_celsius": peak})
        rows.append([e.store.name, rule_name(e.rule), format_datetime(e.started_at), peak])
    return Section(
        key="excursions", title=_("Cold-chain excursions open at the cut-off"),
        columns=[_("Store"), _("Alarm"), _("Since"), _("Peak °C")],
        rows=rows, figures={"open": len(items), "items": items},
    )
