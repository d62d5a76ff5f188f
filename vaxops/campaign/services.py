"""Dose counters: kept in step with dose records, rebuilt from them, and read for summaries."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Substr

from vaxops.campaign.models import DoseCounter
from vaxops.regions.models import Division, Level
from vaxops.vaccination.models import DoseRecord, DoseStatus

TZ = ZoneInfo(settings.TIME_ZONE)
KEY_FIELDS = (
    "division_id", "day", "product_code", "dose_number", "kind",
    "completes_series", "age_band", "priority_group",
)


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


def bump_counter(dose: DoseRecord, delta: int, *, path: str, residence_path: str | None = None) -> None:
    """Add ``delta`` to the dose's counter row in one upsert; call inside the dose's transaction.

    INSERT … ON CONFLICT DO UPDATE is atomic on both PostgreSQL and SQLite, so concurrent doses
    on the same key add up without a read-modify-write race.
    """
    key = counter_key(dose)
    table = DoseCounter._meta.db_table
    columns = ", ".join(key)
    conflict = ", ".join(key)
    sql = (
        f"INSERT INTO {table} ({columns}, path, county_code, count) "
        f"VALUES ({', '.join(['%s'] * (len(key) + 3))}) "
        f"ON CONFLICT ({conflict}) DO UPDATE SET count = {table}.count + excluded.count"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*key.values(), path, dose.county_code, delta])


def rebuild_counters() -> int:
    """Recompute every counter from the valid dose records; returns the number of rows.

    One INSERT … SELECT … GROUP BY in one transaction: the database does the aggregation, and
    readers see either the old table or the new one, never half of each. The local day is
    computed by the database in the campaign's time zone (on SQLite with the same function
    Django's TruncDate uses).
    """
    if connection.vendor == "postgresql":
        day = "(d.administered_at AT TIME ZONE %s)::date"
        day_params = [settings.TIME_ZONE]
    else:
        day = "django_datetime_cast_date(d.administered_at, %s, 'UTC')"
        day_params = [settings.TIME_ZONE]
    counters = DoseCounter._meta.db_table
    doses = DoseRecord._meta.db_table
    divisions = Division._meta.db_table
    products = DoseRecord._meta.get_field("product").related_model._meta.db_table
    sql = (
        f"INSERT INTO {counters} (division_id, path, county_code, day, product_code, dose_number, kind, "
        f"completes_series, age_band, priority_group, count) "
        f"SELECT d.division_id, r.path, d.county_code, {day}, p.code, d.dose_number, d.kind, "
        f"d.completes_series, d.age_band, d.priority_group, COUNT(*) "
        f"FROM {doses} d JOIN {divisions} r ON r.id = d.division_id JOIN {products} p ON p.id = d.product_id "
        f"WHERE d.status = %s "
        f"GROUP BY d.division_id, r.path, d.county_code, {day}, p.code, d.dose_number, d.kind, "
        f"d.completes_series, d.age_band, d.priority_group"
    )
    with transaction.atomic():
        DoseCounter.objects.all().delete()
        with connection.cursor() as cursor:
            cursor.execute(sql, [*day_params, DoseStatus.VALID, *day_params])
        return DoseCounter.objects.count()


def counter_snapshot() -> dict[tuple, int]:
    """All non-zero counters as {key: count}, for comparing live counters with a rebuild."""
    return {
        tuple(r[f] for f in KEY_FIELDS): r["count"]
        for r in DoseCounter.objects.exclude(count=0).values(*KEY_FIELDS, "count")
    }


METRICS = {
    "doses_total": Q(),
    "first_dose_people": Q(dose_number=1, kind="primary"),
    "second_dose_people": Q(dose_number=2, kind="primary"),
    "completed_series_people": Q(completes_series=True),
    "booster_people": Q(kind="booster"),
}


def _zero() -> dict[str, int]:
    return dict.fromkeys(METRICS, 0)


def summary(division: Division, at: dt.datetime) -> dict[str, Any]:
    """Totals for ``division``'s subtree as of ``at``, and the same for each child division.

    Whole days before ``at`` come from the counters; the day of ``at`` itself comes from the
    dose records of that one day, so the cost does not grow with the campaign's length.
    """
    at_local = at.astimezone(TZ)
    day = at_local.date()
    day_start = dt.datetime.combine(day, dt.time.min, tzinfo=TZ)
    children = list(division.children.all())
    child_len = len(division.path) + (len(children[0].code) + 1 if children else 0)

    totals = _zero()
    by_child: dict[str, dict[str, int]] = defaultdict(_zero)
    aggregates = {name: Sum("count", filter=q) for name, q in METRICS.items()}
    counters = DoseCounter.objects.filter(path__startswith=division.path, day__lt=day)
    # The part-day comes from one day of dose rows, found through the (county_code,
    # administered_at) index: hot rows carry their county, so no join decides the range scan.
    if division.level <= Level.COUNTY:
        counties = list(division.subtree().filter(level=Level.COUNTY).values_list("code", flat=True))
    else:
        counties = [division.county_code]
    today = DoseRecord.objects.filter(
        county_code__in=counties,
        administered_at__gte=day_start,
        administered_at__lte=at,
        status=DoseStatus.VALID,
    )
    if division.level > Level.COUNTY:
        today = today.filter(division__path__startswith=division.path)
    today_aggregates = {name: Count("id", filter=q) for name, q in METRICS.items()}
    sources = [
        (counters, "path", aggregates),
        (today, "division__path", today_aggregates),
    ]
    for qs, path_field, aggs in sources:
        if children:
            rows = qs.values(child=Substr(path_field, 1, child_len)).annotate(**aggs).order_by()
        else:
            rows = [dict(qs.aggregate(**aggs), child=None)]
        for row in rows:
            for name in METRICS:
                value = row[name] or 0
                totals[name] += value
                if row["child"]:
                    by_child[row["child"]][name] += value

    child_items = []
    for child in children:
        figures = by_child.get(child.path, _zero())
        pop = child.population_18_plus
        child_items.append(
            {
                "code": child.code,
                "name": child.name,
                **figures,
                "population_18_plus": pop,
                "first_dose_coverage_18_plus": round(figures["first_dose_people"] / pop, 4) if pop else None,
            }
        )
    return {
        "division_code": division.code,
        "division_name": division.name,
        "at": at_local.isoformat(),
        **totals,
        "population_18_plus": division.population_18_plus,
        "children": child_items,
    }


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
