"""Dose counters: kept in step with dose records, rebuilt from them, and read for summaries.

Every figure has two views (docs/figures.md):

* *where doses were given* — by the site's division (``DoseCounter``): workload, supply;
* *whose residents are vaccinated* — by the person's home division when vaccinated
  (``ResidenceCounter``): coverage = residents vaccinated ÷ resident population.

And two clocks: *as administered by T* (the default: doses given by T, whenever they were
entered) and *as recorded by T* (doses entered by T: what could have been published at T).
The difference between them is the late entries, which every summary reports.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, Count, F, Q, QuerySet, Sum, Value, When
from django.db.models.functions import Substr
from django.utils.translation import gettext as _

from vaxops.campaign.models import DoseCounter, ResidenceCounter
from vaxops.regions.models import Division, Level
from vaxops.vaccination.models import DoseRecord, DoseStatus

TZ = ZoneInfo(settings.TIME_ZONE)
KEY_FIELDS = (
    "division_id", "day", "product_code", "dose_number", "kind",
    "completes_series", "age_band", "priority_group",
)
RESIDENCE_KEY_FIELDS = ("path", "day", "dose_number", "kind", "completes_series", "age_band")

ADMINISTERED = "administered"
RECORDED = "recorded"
VIEWS = (ADMINISTERED, RECORDED)


def retrospective_window() -> dt.timedelta:
    """How long after it was given a dose may still be entered as an ordinary (not
    retrospective) entry: the bound that keeps the late-entry queries to a short range."""
    return dt.timedelta(hours=getattr(settings, "VAXOPS_RETROSPECTIVE_HOURS", 24))


# -- writing -----------------------------------------------------------------------------------


def counter_key(dose: DoseRecord) -> dict[str, Any]:
    return {
        "division_id": dose.division_id,
        "day": dose.administered_at.astimezone(TZ).date(),
        "product_code": dose.product.code,
        "dose_number": dose.dose_number,
        "kind": dose.kind,
        "completes_series": dose.completes_series,
        "age_band": dose.age_band,
        "priority_group": dose.priority_group,
    }


def county_path(path: str, county_code: str) -> str:
    """The part of a division ``path`` down to the county ``county_code`` (the whole path when
    the county is not on it): where a dose without a residence is counted."""
    parts = path.rstrip("/").split("/")
    if county_code in parts:
        return "/".join(parts[: parts.index(county_code) + 1]) + "/"
    return path


def path_county(path: str) -> str:
    """The county code of the division at the end of ``path`` (its first six digits)."""
    return path.rstrip("/").rsplit("/", 1)[-1][:6]


def _upsert_sql(table: str, columns: Iterable[str], key: Iterable[str]) -> str:
    columns, key = list(columns), list(key)
    return (
        f"INSERT INTO {table} ({', '.join(columns)}, count) VALUES ({', '.join(['%s'] * (len(columns) + 1))}) "
        f"ON CONFLICT ({', '.join(key)}) DO UPDATE SET count = {table}.count + excluded.count"
    )


_SITE_UPSERT = _upsert_sql(DoseCounter._meta.db_table, [*KEY_FIELDS, "path", "county_code"], KEY_FIELDS)
_RESIDENCE_UPSERT = _upsert_sql(
    ResidenceCounter._meta.db_table, [*RESIDENCE_KEY_FIELDS, "county_code"], RESIDENCE_KEY_FIELDS
)


def bump_counter(dose: DoseRecord, delta: int, *, path: str, residence_path: str | None = None) -> None:
    """Add ``delta`` to the dose's two counter rows (by site and by residence); call inside the
    dose's transaction.

    ``path`` is the site division's path, ``residence_path`` the path of the dose's
    ``residence_division`` (``None`` when it has none: counted at the site's county).
    INSERT … ON CONFLICT DO UPDATE is atomic on both PostgreSQL and SQLite, so concurrent doses
    on the same key add up without a read-modify-write race.
    """
    key = counter_key(dose)
    home = residence_path or county_path(path, dose.county_code)
    with connection.cursor() as cursor:
        cursor.execute(_SITE_UPSERT, [*key.values(), path, dose.county_code, delta])
        cursor.execute(
            _RESIDENCE_UPSERT,
            [home, key["day"], dose.dose_number, dose.kind, dose.completes_series, dose.age_band,
             path_county(home), delta],
        )


def bump_counters(sites: Mapping[tuple, int], homes: Mapping[tuple, int]) -> None:
    """Add a batch's doses to the counters, one upsert per key; call inside the batch's
    transaction.

    ``sites`` maps ``(*KEY_FIELDS values, path, county_code)`` and ``homes`` maps
    ``(*RESIDENCE_KEY_FIELDS values, county_code)`` to the number of doses to add (what
    ``bump_counter`` adds for one dose, summed). Keys are sent in sorted order, so concurrent
    batches take the counter rows' locks in one order.
    """
    with connection.cursor() as cursor:
        for sql, rows in ((_SITE_UPSERT, sites), (_RESIDENCE_UPSERT, homes)):
            if rows:
                cursor.executemany(sql, [[*key, count] for key, count in sorted(rows.items(), key=_sort_key)])


def _sort_key(item: tuple[tuple, int]) -> tuple:
    return tuple("" if v is None else str(v) for v in item[0])


def rebuild_counters() -> int:
    """Recompute every counter (both views) from the valid dose records; returns the number of
    counter rows.

    One INSERT … SELECT … GROUP BY per table in one transaction: the database does the
    aggregation, and readers see either the old tables or the new ones, never half of each.
    The local day is computed by the database in the campaign's time zone (on SQLite with the
    same function Django's TruncDate uses). The residence is the one frozen on each dose record
    (the home when vaccinated), never the person's current home: a rebuild reproduces the live
    counters exactly.
    """
    if connection.vendor == "postgresql":
        day = "(d.administered_at AT TIME ZONE %s)::date"
    else:
        day = "django_datetime_cast_date(d.administered_at, %s, 'UTC')"
    counters = DoseCounter._meta.db_table
    residences = ResidenceCounter._meta.db_table
    doses = DoseRecord._meta.db_table
    divisions = Division._meta.db_table
    products = DoseRecord._meta.get_field("product").related_model._meta.db_table
    by_site = (
        f"INSERT INTO {counters} (division_id, path, county_code, day, product_code, dose_number, kind, "
        f"completes_series, age_band, priority_group, count) "
        f"SELECT d.division_id, r.path, d.county_code, {day}, p.code, d.dose_number, d.kind, "
        f"d.completes_series, d.age_band, d.priority_group, COUNT(*) "
        f"FROM {doses} d JOIN {divisions} r ON r.id = d.division_id JOIN {products} p ON p.id = d.product_id "
        f"WHERE d.status = %s "
        f"GROUP BY d.division_id, r.path, d.county_code, {day}, p.code, d.dose_number, d.kind, "
        f"d.completes_series, d.age_band, d.priority_group"
    )
    # A dose without a residence is counted at its site's county (as bump_counter does).
    home = "COALESCE(h.path, c.path, r.path)"
    home_county = "COALESCE(SUBSTR(h.code, 1, 6), d.county_code)"
    by_residence = (
        f"INSERT INTO {residences} (path, county_code, day, dose_number, kind, completes_series, age_band, count) "
        f"SELECT {home}, {home_county}, {day}, d.dose_number, d.kind, d.completes_series, d.age_band, COUNT(*) "
        f"FROM {doses} d JOIN {divisions} r ON r.id = d.division_id "
        f"LEFT JOIN {divisions} h ON h.id = d.residence_division_id "
        f"LEFT JOIN {divisions} c ON c.code = d.county_code "
        f"WHERE d.status = %s "
        f"GROUP BY {home}, {home_county}, {day}, d.dose_number, d.kind, d.completes_series, d.age_band"
    )
    tz = settings.TIME_ZONE
    with transaction.atomic():
        DoseCounter.objects.all().delete()
        ResidenceCounter.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(by_site, [tz, DoseStatus.VALID, tz])
            cursor.execute(by_residence, [tz, DoseStatus.VALID, tz])
        return DoseCounter.objects.count() + ResidenceCounter.objects.count()


def counter_snapshot() -> dict[tuple, int]:
    """All non-zero counters by site as {key: count}, for comparing live counters with a rebuild."""
    return {
        tuple(r[f] for f in KEY_FIELDS): r["count"]
        for r in DoseCounter.objects.exclude(count=0).values(*KEY_FIELDS, "count")
    }


def residence_snapshot() -> dict[tuple, int]:
    """All non-zero counters by residence as {key: count}, the same for the second view."""
    return {
        tuple(r[f] for f in RESIDENCE_KEY_FIELDS): r["count"]
        for r in ResidenceCounter.objects.exclude(count=0).values(*RESIDENCE_KEY_FIELDS, "count")
    }


# -- reading -----------------------------------------------------------------------------------

METRICS = {
    "doses_total": Q(),
    "first_dose_people": Q(dose_number=1, kind="primary"),
    "second_dose_people": Q(dose_number=2, kind="primary"),
    "completed_series_people": Q(completes_series=True),
    "booster_people": Q(kind="booster"),
}
RESIDENCE_METRICS = ("first_dose_people", "second_dose_people", "completed_series_people", "booster_people")


def _metrics_of(row: Mapping[str, Any]) -> dict[str, int]:
    """``METRICS`` evaluated on one dose row in memory (for the few late and early entries)."""
    primary = row["kind"] == "primary"
    return {
        "doses_total": 1,
        "first_dose_people": int(primary and row["dose_number"] == 1),
        "second_dose_people": int(primary and row["dose_number"] == 2),
        "completed_series_people": int(bool(row["completes_series"])),
        "booster_people": int(row["kind"] == "booster"),
    }


def _zero() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


class _Tally:
    """Figures of one view for a division: its total, each child's, and the rest ("not
    assigned to a child"), so that children + unassigned = total by construction."""

    def __init__(self, division: Division, child_paths: set[str], child_len: int) -> None:
        self.prefix = division.path
        self.child_paths = child_paths
        self.child_len = child_len
        self.total = _zero()
        self.children: dict[str, dict[str, int]] = defaultdict(_zero)
        self.unassigned = _zero()

    def add(self, path: str | None, figures: Mapping[str, int], sign: int = 1) -> None:
        if not path or not path.startswith(self.prefix):
            return
        child = path[: self.child_len]
        target = self.children[child] if child in self.child_paths else self.unassigned
        for name in METRICS:
            value = sign * (figures.get(name) or 0)
            self.total[name] += value
            target[name] += value

    def add_grouped(self, qs: QuerySet, path_field: str, aggregates: dict[str, Any]) -> None:
        """Add ``qs`` grouped by the child its ``path_field`` falls in (one row per child)."""
        rows = qs.values(child=Substr(path_field, 1, self.child_len)).annotate(**aggregates).order_by()
        for row in rows:
            self.add(row["child"], row)


def _counties(division: Division) -> dict[str, str]:
    """The counties in ``division``'s subtree (or its own county, below a county): code → path."""
    if division.level <= Level.COUNTY:
        rows = division.subtree().filter(level=Level.COUNTY).values_list("code", "path")
        counties = dict(rows)
        if division.level == Level.COUNTY:
            counties.setdefault(division.code, division.path)
        return counties
    return {division.county_code: county_path(division.path, division.county_code)}


def _ratio(people: int, population: int) -> float | None:
    return round(people / population, 4) if population > 0 else None


def _residence(figures: Mapping[str, int], population: int) -> dict[str, Any]:
    return {
        **{name: figures[name] for name in RESIDENCE_METRICS},
        "population_18_plus": population,
        "first_dose_coverage_18_plus": _ratio(figures["first_dose_people"], population),
    }


def _entry(code: str, name: str, site: Mapping[str, int], home: Mapping[str, int], population: int) -> dict[str, Any]:
    return {
        "code": code,
        "name": name,
        **site,
        "population_18_plus": population,
        # Doses given in the area ÷ its residents: a workload ratio kept for API compatibility;
        # coverage is ``residence.first_dose_coverage_18_plus``.
        "first_dose_coverage_18_plus": _ratio(site["first_dose_people"], population),
        "residence": _residence(home, population),
    }


def unassigned_name(children: list[Division]) -> str:
    """The label of the "not assigned to a child" row (e.g. "Not assigned to a township")."""
    if not children:
        return _("Not assigned to a division below")
    return _("Not assigned to a %(level)s") % {"level": Level(children[0].level).label}


def summary(division: Division, at: dt.datetime, *, view: str = ADMINISTERED) -> dict[str, Any]:
    """Figures of ``division``'s subtree as of ``at``, in both views, with each child and the
    "not assigned to a child" row; ``view`` chooses the clock (administered or recorded by ``at``).

    Whole days before ``at`` come from the counters; the day of ``at`` itself from the dose
    records of that one day; the late (and, as recorded, early) entries from the doses within
    the retrospective window of ``at`` plus the flagged retrospective ones. No read grows with
    the campaign's length.
    """
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}")
    at_local = at.astimezone(TZ)
    day = at_local.date()
    day_start = dt.datetime.combine(day, dt.time.min, tzinfo=TZ)
    children = list(division.children.all())
    child_len = len(division.path) + (len(children[0].code) + 1 if children else 0)
    child_paths = {c.path for c in children}
    counties = _counties(division)
    site = _Tally(division, child_paths, child_len)
    home = _Tally(division, child_paths, child_len)

    counted = {name: Sum("count", filter=q) for name, q in METRICS.items()}
    site.add_grouped(DoseCounter.objects.filter(path__startswith=division.path, day__lt=day), "path", counted)
    home.add_grouped(ResidenceCounter.objects.filter(path__startswith=division.path, day__lt=day), "path", counted)

    # The part-day by site comes from one day of dose rows, found through the (county_code,
    # administered_at) index: hot rows carry their county, so no join decides the range scan.
    valid = DoseRecord.objects.filter(status=DoseStatus.VALID)
    rows = {name: Count("id", filter=q) for name, q in METRICS.items()}
    today = valid.filter(county_code__in=list(counties), administered_at__gte=day_start, administered_at__lte=at)
    if division.level > Level.COUNTY:
        today = today.filter(division__path__startswith=division.path)
    site.add_grouped(today, "division__path", rows)
    # By residence, the residents may have been vaccinated anywhere: one day of doses through the
    # administered_at index, narrowed to the residents of the subtree.
    residents = _residents_of(division, counties)
    today_home = (
        valid.filter(residents, administered_at__gte=day_start, administered_at__lte=at)
        .values(
            child=Substr("residence_division__path", 1, child_len),
            orphan=Case(When(residence_division__isnull=True, then=F("county_code")), default=Value("")),
        )
        .annotate(**rows)
        .order_by()
    )
    for row in today_home:
        home.add(_home_path(row["child"], row["orphan"], counties), row)

    late, early = _late_and_early(division, at, residents, with_early=view == RECORDED)
    late_entries = sum(1 for r in late if r["division__path"].startswith(division.path))
    if view == RECORDED:
        for entries, sign in ((late, -1), (early, +1)):
            for r in entries:
                figures = _metrics_of(r)
                site.add(r["division__path"], figures, sign)
                home.add(_home_path(r["residence_division__path"], r["orphan"], counties), figures, sign)

    child_items = [
        _entry(c.code, c.name, site.children.get(c.path, _zero()), home.children.get(c.path, _zero()),
               c.population_18_plus)
        for c in children
    ]
    rest_population = division.population_18_plus - sum(c.population_18_plus for c in children)
    return {
        "division_code": division.code,
        "division_name": division.name,
        "at": at_local.isoformat(),
        "view": view,
        **site.total,
        "population_18_plus": division.population_18_plus,
        "residence": _residence(home.total, division.population_18_plus),
        "children": child_items,
        "unassigned": _entry("", unassigned_name(children), site.unassigned, home.unassigned, rest_population),
        "late_entries": late_entries,
    }


def _residents_of(division: Division, counties: Mapping[str, str]) -> Q:
    """Doses of the subtree's residents (a dose without a residence belongs to its site's county)."""
    q = Q(residence_division__path__startswith=division.path)
    if division.level <= Level.COUNTY:
        q |= Q(residence_division__isnull=True, county_code__in=list(counties))
    return q


def _home_path(path: str | None, orphan_county: str, counties: Mapping[str, str]) -> str | None:
    """Where a dose row counts by residence: its residence (or child of it), else its county."""
    if path:
        return path
    return counties.get(orphan_county) if orphan_county else None


def _late_and_early(
    division: Division, at: dt.datetime, residents: Q, *, with_early: bool
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Doses of the subtree (by site or by residence) administered by ``at`` but recorded after
    it (late), and — when asked — recorded by ``at`` but administered after it (early: a clock
    running ahead, bounded by the same window).

    Bounded reads only: an ordinary entry is recorded within the retrospective window of its
    administration, so its late entries lie in (at − window, at] of administered_at (an index
    range); a retrospective entry is flagged and found through the partial index on
    recorded_at. Neither reads the campaign's history.
    """
    window = retrospective_window()
    area = Q(division__path__startswith=division.path) | residents
    fields = ("id", "division__path", "residence_division__path", "dose_number", "kind", "completes_series")
    orphan = Case(When(residence_division__isnull=True, then=F("county_code")), default=Value(""))

    def fetch(qs: QuerySet) -> list[dict[str, Any]]:
        return list(qs.filter(area, status=DoseStatus.VALID).annotate(orphan=orphan).values(*fields, "orphan"))

    ordinary = fetch(
        DoseRecord.objects.filter(
            administered_at__gt=at - window, administered_at__lte=at, recorded_at__gt=at, retrospective=False
        )
    )
    flagged = fetch(DoseRecord.objects.filter(retrospective=True, recorded_at__gt=at, administered_at__lte=at))
    early: list[dict[str, Any]] = []
    if with_early:
        early = fetch(
            DoseRecord.objects.filter(administered_at__gt=at, administered_at__lte=at + window, recorded_at__lte=at)
        )
    return ordinary + flagged, early


def daily_doses(division: Division, until: dt.date, days: int = 120) -> list[dict[str, Any]]:
    """Doses per day in the subtree over the ``days`` days up to ``until`` (from counters)."""
    start = until - dt.timedelta(days=days - 1)
    rows = (
        DoseCounter.objects.filter(path__startswith=division.path, day__gte=start, day__lte=until)
        .values("day")
        .annotate(doses=Sum("count"))
        .order_by("day")
    )
    return [{"day": r["day"].isoformat(), "doses": r["doses"]} for r in rows]
