"""The demo build: exact reported figures, rules respected, valid IDs, counters consistent."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from django.db.models import Count, Q, Sum

from vaxops.campaign import demo
from vaxops.campaign.services import TZ, counter_snapshot, rebuild_counters, residence_snapshot, summary
from vaxops.catalog import rules
from vaxops.catalog.models import Product
from vaxops.regions.models import Division, Level
from vaxops.registry.idnumber import parse_id_number
from vaxops.registry.models import Person
from vaxops.sites.models import Site
from vaxops.supply.models import Lot
from vaxops.vaccination.models import DoseRecord
from vaxops.vaccination.services import _fingerprint

SCALE = 0.002
GANZI = "5133"  # the demo's second place, Jingxi (4510…), is tested in test_demo_jingxi
pytestmark = pytest.mark.django_db


@pytest.fixture
def built(demo_built) -> demo.DemoReport:
    return demo_built  # one build per module (conftest.py)


def test_summary_has_the_reported_figures_at_scale(built, client):
    first, second = round(330_123 * SCALE), round(43_534 * SCALE)
    figures = summary(Division.objects.get(code="513300"), demo.REPORT_AT)
    assert (figures["first_dose_people"], figures["second_dose_people"]) == (first, second)
    assert figures["doses_total"] == first + second
    assert figures["booster_people"] == 0
    assert DoseRecord.objects.filter(county_code__startswith=GANZI).count() == first + second
    assert DoseRecord.objects.filter(administered_at__gt=demo.REPORT_AT).count() == 0
    # The same through the API, as the prefecture command sees it.
    token = demo.issue_demo_tokens()["prefecture_command"]
    response = client.get(
        "/api/v1/stats/summary", {"division": "513300", "at": "2021-06-01T19:00:00+08:00"},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["doses_total"], body["first_dose_people"], body["second_dose_people"]) == (
        first + second, first, second,
    )


def test_counties_get_doses_by_population_tilted_to_mass_sites_and_borders(built):
    counties = {d.code: d for d in Division.objects.filter(level=Level.COUNTY, code__startswith=GANZI)}
    assert len(counties) == 18
    assert sum(d.population for d in counties.values()) == 1_107_431
    doses = dict(DoseRecord.objects.filter(county_code__startswith=GANZI).values_list("county_code")
                 .annotate(n=Count("id")))
    total = sum(doses.values())
    facts = {f.code: f for f in demo.COUNTIES}
    weights = {code: c.population * demo.uptake_factor(facts[code], 7) for code, c in counties.items()}
    for code in counties:
        expected = total * weights[code] / sum(weights.values())
        assert abs(doses[code] - expected) <= 2, code
    factors = [demo.uptake_factor(f, 7) for f in demo.COUNTIES]
    assert min(factors) >= 0.8 and max(factors) <= 1.4 and max(factors) - min(factors) > 0.1


def test_every_dose_passes_the_rules_when_replayed_in_order(built):
    products = {p.code: p.rule for p in Product.objects.all()}
    births = dict(Person.objects.values_list("pk", "birth_date"))
    history: dict[int, list[rules.PriorDose]] = defaultdict(list)
    doses = DoseRecord.objects.select_related("product", "site", "lot").order_by("administered_at", "pk")
    for dose in doses.filter(county_code__startswith=GANZI):  # Renzhuang's day: test_demo_jingxi
        on = dose.administered_at.astimezone(TZ).date()
        verdict = rules.assess(product=products[dose.product.code], on=on, birth_date=births[dose.person_id],
                               history=history[dose.person_id], products=products)
        assert verdict.status == "eligible", (dose.pk, verdict.reason_codes)
        assert (verdict.dose_number, verdict.kind, verdict.overdue) == (dose.dose_number, dose.kind, dose.overdue)
        assert dose.completes_series == (dose.dose_number >= products[dose.product.code].doses_in_series)
        # One lot was quarantined after the report (demo_supply): its doses were given before.
        assert dose.lot.status == "released" or dose.lot.lot_number == built.supply.quarantined_lot
        assert dose.lot.expiry_date >= on
        local = dose.administered_at.astimezone(TZ).time()
        assert dt.time(8) <= local < dt.time(18)
        assert dose.fingerprint == _fingerprint(dose.person_id, dose.product.code, dose.lot.lot_number,
                                                dose.site.code, dose.administered_at)
        assert dose.county_code == dose.site.county_code and dose.division_id == dose.site.division_id
        history[dose.person_id].append(
            rules.PriorDose(product_code=dose.product.code, dose_number=dose.dose_number, kind=dose.kind,
                            given_on=on, series=dose.series)
        )


def test_second_doses_are_at_least_21_days_after_the_first(built):
    given: dict[int, dict[int, dt.date]] = defaultdict(dict)
    for person_id, number, at in DoseRecord.objects.values_list("person_id", "dose_number", "administered_at"):
        given[person_id][number] = at.astimezone(TZ).date()
    seconds = [d for d in given.values() if 2 in d]
    assert seconds
    assert all((d[2] - d[1]).days >= 21 for d in seconds)
    assert all(set(d) <= {1, 2} for d in given.values())


def test_residents_have_valid_ids_and_the_population_adds_up(built):
    today = dt.date(2021, 6, 1)
    codes = Counter()
    for number, county, birth, sex in Person.objects.values_list("id_number", "county_code", "birth_date", "sex"):
        parsed = parse_id_number(number, today=today)
        assert (parsed.birth_date, parsed.sex) == (birth, sex)
        assert parsed.division_code == county or (county == "513301" and parsed.division_code == "513321")
        codes[parsed.division_code] += 1
    assert codes["513321"] > 0  # older Kangding numbers
    vaccinated = DoseRecord.objects.filter(county_code__startswith=GANZI).values("person_id").distinct().count()
    assert Person.objects.filter(county_code__startswith=GANZI).count() == vaccinated + round(0.15 * vaccinated)
    # Every division's population is the sum of its children's, band by band.
    bands = ["pop_0_2", "pop_3_11", "pop_12_17", "pop_18_59", "pop_60_plus"]
    sums = {row["parent_id"]: row for row in Division.objects.values("parent_id").annotate(**{b: Sum(b) for b in bands})}
    for division in Division.objects.filter(children__isnull=False).distinct():
        assert all(getattr(division, b) == sums[division.pk][b] for b in bands), division.code
    ganzi = Division.objects.filter(code__startswith=GANZI)
    assert ganzi.filter(level=Level.TOWNSHIP).count() == 289
    assert not ganzi.filter(level__gte=Level.TOWNSHIP, is_synthetic=False).exists()


def test_sites_lots_and_counters(built):
    sites = Site.objects.filter(county_code__startswith=GANZI)
    assert sites.filter(kind="mass_site").count() == 2
    assert sites.filter(kind="fixed_site").count() == 16
    assert sites.filter(kind="township_health_centre").count() == 289
    assert Site.objects.filter(code="513301-P2P-UNIV").exists()
    assert set(Lot.objects.values_list("status", flat=True)) == {"released", "quarantined"}
    assert Lot.objects.filter(expiry_date__lt=demo.CAMPAIGN_START).count() == 1
    # Every product has a lot the site desk can use today.
    from django.utils import timezone

    usable_today = Lot.objects.filter(status="released", expiry_date__gte=timezone.localdate())
    assert set(usable_today.values_list("product__code", flat=True)) == set(demo.LOT_SPECS)
    mass = DoseRecord.objects.filter(site__kind="mass_site", county_code__startswith=GANZI)
    assert mass.count() == round(demo.MASS_DOSES * SCALE)
    before, before_residence = counter_snapshot(), residence_snapshot()
    assert sum(before_residence.values()) == sum(before.values()) == DoseRecord.objects.count()
    rebuild_counters()
    assert counter_snapshot() == before
    # The demo's residence counters (summed while writing) are exactly what a rebuild computes.
    assert residence_snapshot() == before_residence


def test_apportion_is_exact_and_proportional():
    assert demo.apportion(10, [1, 1, 1]) == [4, 3, 3]
    assert sum(demo.apportion(373_657, [c.population_2020 for c in demo.COUNTIES])) == 373_657
    assert sum(demo.split_bands(126_785).values()) == 126_785
    assert demo.targets(1.0) == (330_123, 43_534)


def test_demo_state_and_reuse(built):
    assert demo.demo_state(SCALE, 7) == "same"
    assert demo.demo_state(SCALE, 8) == "other"
    assert demo.demo_state(0.5, 7) == "other"


def test_every_breakdown_of_the_demo_adds_up_in_both_views(built):
    """Children + "not assigned to a child" = the parent, by site and by residence, as
    administered and as recorded; and each child's row is that child's own total. Every
    division down to the townships (whose rows are the villages), and the villages of Kangding
    (whose rows are the grids): all villages would only repeat the same code 1,300 times."""
    from vaxops.campaign.services import METRICS, RECORDED, RESIDENCE_METRICS

    totals: dict[str, dict] = {}
    rows_of: dict[str, dict] = {}
    parents = (
        Division.objects.filter(children__isnull=False)
        .filter(Q(level__lte=Level.TOWNSHIP) | Q(code__startswith="513301"))
        .distinct().order_by("level", "code")
    )
    for division in parents:
        # The demo has no late entries, so as recorded = as administered: checked down to counties.
        for view in ("administered", RECORDED) if division.level <= Level.COUNTY else ("administered",):
            figures = summary(division, demo.REPORT_AT, view=view)
            rows = [*figures["children"], figures["unassigned"]]
            for name in METRICS:
                assert sum(r[name] for r in rows) == figures[name], (division.code, view, name)
            for name in RESIDENCE_METRICS:
                assert sum(r["residence"][name] for r in rows) == figures["residence"][name], (division.code, name)
            assert sum(r["population_18_plus"] for r in rows) == figures["population_18_plus"]
            if view == "administered":
                totals[division.code] = figures
                rows_of.update({c["code"]: c for c in figures["children"]})
            else:
                assert figures["late_entries"] == 0 and figures["doses_total"] == totals[division.code]["doses_total"]
    for code, figures in totals.items():
        if code in rows_of:
            assert rows_of[code]["doses_total"] == figures["doses_total"], code
            assert rows_of[code]["residence"] == figures["residence"], code
    prefecture = totals["513300"]
    # Every demo resident lives in a grid of the prefecture, and every site is in a county.
    assert prefecture["residence"]["first_dose_people"] == prefecture["first_dose_people"]
    assert prefecture["unassigned"]["doses_total"] == 0
    # Mobile teams are county-level sites: Kangding's township rows do not hold their doses.
    kangding = totals["513301"]
    mobile = DoseRecord.objects.filter(site__kind="mobile_team", county_code="513301").count()
    assert kangding["unassigned"]["doses_total"] == mobile
    assert kangding["unassigned"]["residence"]["first_dose_people"] == 0
    assert DoseRecord.objects.filter(residence_division__isnull=True).count() == 0
