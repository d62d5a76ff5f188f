"""Cluster detection in the reporting transaction: serious similar cases at one site, a rise of
similar non-serious cases for one lot, dissimilar events and the window; the cluster's clock and
the supervisor's one-click quarantine of its lots."""

from __future__ import annotations

import datetime as dt

import pytest

from vaxops.core.errors import VaxopsError
from vaxops.core.models import AuditEvent
from vaxops.safety.models import AefiCluster, ClusterStatus
from vaxops.safety.services import act_on_cluster, report_aefi
from vaxops.safety.tests.helpers import DOSE_AT, dose, report_args
from vaxops.supply.models import Lot, LotStatus

H = dt.timedelta(hours=1)
SERIOUS = {"serious": True, "serious_criteria": ["hospitalisation"]}


def serious(world, events, *, after=6, site="KD-MASS", lot="B2021001", at=DOSE_AT):
    d = dose(world, site=site, lot=lot, at=at)
    user = world.users["vaccinator" if site == "KD-MASS" else "vaccinator_ld"]
    return report_aefi(**report_args(d, events=events, onset_at=d.administered_at + after * H, **SERIOUS),
                       acting_user=user)


def test_two_serious_similar_cases_at_one_site_open_a_cluster(world):
    first = serious(world, ["anaphylaxis"])
    assert first.cluster is None
    second = serious(world, ["anaphylactic_shock"], lot="C2021001")
    cluster = second.cluster
    assert cluster is not None and cluster.rule == "site" and cluster.group == "anaphylaxis"
    assert cluster.site == world.sites["KD-MASS"]
    first.refresh_from_db()
    assert first.cluster == cluster
    assert set(cluster.proposed_lots.values_list("lot_number", flat=True)) == {"B2021001", "C2021001"}
    assert cluster.report_due_by == cluster.opened_at + 2 * H
    audit = AuditEvent.objects.filter(action="aefi.report", object_id=str(second.pk)).get()
    assert audit.after["cluster_id"] == cluster.pk and audit.after["cluster_opened"] is True
    # A third similar case joins the same cluster.
    third = serious(world, ["anaphylaxis"], after=30)
    assert third.cluster == cluster and AefiCluster.objects.count() == 1


def test_dissimilar_serious_cases_are_no_cluster(world):
    serious(world, ["anaphylaxis"])
    second = serious(world, ["gbs"])
    assert second.cluster is None and AefiCluster.objects.count() == 0


def test_similar_serious_cases_at_two_sites_are_no_cluster(world):
    serious(world, ["syncope"])
    second = serious(world, ["hysteria"], site="LD-MASS")
    assert second.cluster is None


def test_the_window_edge_is_inside_and_beyond_it_there_is_no_cluster(world):
    serious(world, ["fever_38_6"], after=1)
    beyond = serious(world, ["fever_38_6"], after=1, at=DOSE_AT + 72 * H + dt.timedelta(minutes=1))
    assert beyond.cluster is None
    edge = serious(world, ["fever_38_6"], after=1, at=DOSE_AT + 72 * H)
    assert edge.cluster is not None


def non_serious(world, events=("fever_38_6",), *, lot="B2021001", after=6):
    d = dose(world, lot=lot)
    return report_aefi(**report_args(d, events=list(events), onset_at=d.administered_at + after * H),
                       acting_user=world.users["vaccinator"])


def test_a_rise_of_similar_non_serious_cases_for_one_lot_opens_a_lot_cluster(world):
    a, b = non_serious(world), non_serious(world, ("local_reaction_2_5cm",))
    c = non_serious(world, after=8)
    assert a.cluster is None and b.cluster is None and c.cluster is None  # two fevers only
    d = non_serious(world, after=9)
    assert d.cluster is not None and d.cluster.rule == "lot" and d.cluster.group == "fever"
    assert d.cluster.lot == world.lots["bibp"]
    assert sorted(d.cluster.reports.values_list("pk", flat=True)) == sorted([a.pk, c.pk, d.pk])
    b.refresh_from_db()
    assert b.cluster is None
    # The cluster puts its members on the 2-hour clock.
    a.refresh_from_db()
    assert a.report_due_by == d.cluster.report_due_by


def test_non_serious_cases_among_many_doses_are_no_rise(world):
    from vaxops.safety import rules

    # The same three fevers, but among 100,000 doses of the lot: at the floor rate.
    assert not rules.lot_rise(window_reports=3, window_doses=100_000, baseline_reports=0, baseline_doses=0)
    for lot in ("B2021001", "C2021001", "B2021001"):
        r = non_serious(world, lot=lot)
    assert r.cluster is None  # two of one lot, one of another


def test_the_supervisor_quarantines_the_clusters_lots_with_one_click(world):
    serious(world, ["anaphylaxis"])
    cluster = serious(world, ["anaphylaxis"], lot="C2021001").cluster
    for role in ("county_command", "site_manager", "admin"):
        with pytest.raises(VaxopsError) as exc:
            act_on_cluster(cluster, acting_user=world.users[role])
        assert exc.value.code == "permission_denied"
    with pytest.raises(VaxopsError) as exc:
        act_on_cluster(cluster, acting_user=world.users["supervisor_ld"])
    assert exc.value.code == "aefi_cluster_not_found"
    acted = act_on_cluster(cluster, acting_user=world.users["supervisor"])
    assert acted.status == ClusterStatus.ACTED and acted.acted_by == world.users["supervisor"]
    assert acted.action_result == {"B2021001": "quarantined", "C2021001": "quarantined"}
    assert set(Lot.objects.filter(lot_number__in=["B2021001", "C2021001"]).values_list("status", flat=True)) == {
        LotStatus.QUARANTINED}
    assert AuditEvent.objects.filter(action="lot.quarantine").count() == 2
    assert AuditEvent.objects.filter(action="aefi.cluster.act").count() == 1
    with pytest.raises(VaxopsError) as exc:
        act_on_cluster(cluster, acting_user=world.users["supervisor"])
    assert (exc.value.code, exc.value.status) == ("aefi_cluster_acted", 409)


def test_a_lot_already_stopped_is_left_as_it_is(world):
    serious(world, ["anaphylaxis"])
    cluster = serious(world, ["anaphylaxis"], lot="C2021001").cluster
    Lot.objects.filter(lot_number="C2021001").update(status=LotStatus.RECALLED)
    acted = act_on_cluster(cluster, acting_user=world.users["supervisor"])
    assert acted.action_result == {"B2021001": "quarantined", "C2021001": "already_recalled"}
    assert Lot.objects.get(lot_number="C2021001").status == LotStatus.RECALLED
