"""Outcome roll-ups per grid, township and county, and the daily report's ``outreach`` section.

A resident counts once, by the outcome of their latest contact attempt up to the moment asked
(``at``): reached (spoken to, themselves or their household), booked (booked or will come),
refused, away; "unreached" are the residents on a work list today whose latest attempt did not
reach them (or who were never tried), so the grids with the most of them are where to go next.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from vaxops.outreach.models import ContactAttempt, DueEntry, DueKind
from vaxops.outreach.outcomes import OUTCOMES
from vaxops.outreach.worklists import SOON_DAYS, subtree_range
from vaxops.regions.models import Division

FIGURES = ("contacted", "reached", "booked", "refused", "away", "unreached")


def _child_path(home_path: str, depth: int) -> str:
    return "/".join(home_path.split("/")[:depth]) + "/"


def rollup(division: Division, at: dt.datetime, today: dt.date, *, restrict_to: Any = None) -> dict[str, Any]:
    """Figures for ``division`` and each of its children (``restrict_to``: a queryset filter
    function for the user's area, or ``None`` for the division as a whole)."""
    low, high = subtree_range(division.path)
    depth = len(division.path.split("/"))
    contacts = ContactAttempt.objects.filter(home_path__gte=low, home_path__lt=high, at__lte=at)
    due = DueEntry.objects.filter(home_path__gte=low, home_path__lt=high)
    if restrict_to is not None:
        contacts, due = restrict_to(contacts), restrict_to(due)
    latest: dict[int, tuple[str, str]] = {}
    for pid, path, outcome in contacts.order_by("at", "pk").values_list("person_id", "home_path", "outcome"):
        latest[pid] = (path, outcome)
    children = {d.path: d for d in Division.objects.filter(parent=division)}
    rows: dict[str, dict[str, int]] = {p: dict.fromkeys(FIGURES, 0) for p in children}
    total = dict.fromkeys(FIGURES, 0)
    reached_people = set()

    def add(path: str, figure: str, n: int = 1) -> None:
        total[figure] += n
        child = _child_path(path, depth)
        if child in rows:
            rows[child][figure] += n

    for pid, (path, outcome) in latest.items():
        spec = OUTCOMES.get(outcome)
        add(path, "contacted")
        if spec is not None and spec.reached:
            add(path, "reached")
            reached_people.add(pid)
        if spec is not None and spec.group in ("booked", "refused", "away"):
            add(path, spec.group)
    soon = today + dt.timedelta(days=SOON_DAYS)
    listed = due.filter(Q(kind=DueKind.FIRST, list_date__lte=today)
                        | Q(kind__in=[DueKind.NEXT, DueKind.BOOSTER], list_date__lte=soon))
    for path, n in listed.exclude(person_id__in=list(reached_people)).values_list("home_path").annotate(
            n=Count("person_id")).values_list("home_path", "n"):
        add(path, "unreached", n)
    items = [{"division_code": d.code, "name": d.name, **rows[p]} for p, d in sorted(children.items())]
    items.sort(key=lambda r: (-r["unreached"], r["division_code"]))
    return {"division_code": division.code, "name": division.name, **total, "children": items}


def report_section(ctx: Any):
    """The daily report's ``outreach`` section (order 70): the figures of each child division
    at the cut-off, the most unreached first."""
    from vaxops.reports.sections import Section

    figures = rollup(ctx.division, ctx.cutoff, ctx.day)
    if not figures["contacted"] and not figures["unreached"]:
        return None
    columns = [_("Division"), _("Contacted"), _("Reached"), _("Booked"), _("Refused"), _("Away"), _("Unreached")]
    rows = [[c["name"], *(c[f] for f in FIGURES)] for c in figures["children"]]
    rows.append([_("Total"), *(figures[f] for f in FIGURES)])
    sentence = _("outreach reached %(reached)d residents, %(booked)d booked, %(unreached)d still unreached") % figures
    return Section(key="outreach", title=_("Outreach"), columns=columns, rows=rows,
                   figures={k: figures[k] for k in FIGURES} | {"children": figures["children"]}, sentence=sentence)
