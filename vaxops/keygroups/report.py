"""The daily report's section "key_groups" (order 65): each key group's 应种尽种 figures."""

from __future__ import annotations

from django.utils.translation import gettext as _

from vaxops.reports.sections import ReportContext, Section

from .models import Membership
from .stats import group_figures, in_area


def key_groups_section(ctx: ReportContext) -> Section | None:
    """Registered, removed, eligible, first dose, completed and coverage per group at the cut-off
    (groups with no member in the division left out; ``None`` when there are none)."""
    groups = [g for g in group_figures(in_area(Membership.objects.all(), ctx.division), ctx.cutoff)
              if g["registered"]]
    if not groups:
        return None
    rows = [[g["name"], g["registered"], g["contraindicated"], g["deceased"] + g["moved_out"], g["eligible"],
             g["first_dose_people"], g["completed_people"], g["not_vaccinated"],
             None if g["coverage"] is None else round(100 * g["coverage"], 2)] for g in groups]
    return Section(
        key="key_groups", title=_("Key groups (应种尽种)"),
        columns=[_("Key group"), _("Registered"), _("Contraindicated"), _("Deceased or moved out"),
                 _("Eligible"), _("First dose"), _("Completed series"), _("Not yet vaccinated"),
                 _("First-dose coverage (per cent)")],
        rows=rows, figures={"groups": groups},
    )
