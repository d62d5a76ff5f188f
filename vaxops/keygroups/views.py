"""Key-group pages: the figures and the list still to reach (for a division and/or a responsible
unit), and a page to add members. Thin: reads through ``keygroups.api``'s scoped helpers, the
write through ``keygroups.services.add_members``."""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from vaxops.access.scope import can, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.registry.models import Person, PriorityGroup
from vaxops.staff.models import Unit

from .api import figures_of, full_phones, member_out, unvaccinated_of
from .services import add_members

LIST_ROWS = 200


def _at(request: HttpRequest) -> dt.datetime | None:
    raw = request.GET.get("at") or ""
    try:
        return dt.datetime.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _refusal(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """The key groups of a division (or one unit): figures, then the members still to reach."""
    division, unit, group = request.GET.get("division") or None, request.GET.get("unit") or None, \
        request.GET.get("group") or None
    try:
        data = figures_of(request.user, division, _at(request), unit)
        listing = None
        if can(request.user, "keygroup.list"):
            _d, _u, members = unvaccinated_of(request.user, division_code=data["division_code"], group=group,
                                              unit_code=unit, at=data["at"])
            full = full_phones(request.user)
            listing = {"items": [member_out(m, full) for m in members[:LIST_ROWS]], "count": members.count()}
    except VaxopsError as exc:
        return _refusal(request, exc)
    units = restrict(Unit.objects.filter(members__isnull=False).distinct(), request.user, "stats.view")
    return render(request, "keygroups/overview.html", {
        **data, "groups": [g for g in data["groups"] if g["registered"]], "listing": listing,
        "units": units.order_by("code")[:200], "unit_code": unit or "", "group_code": group or "",
        "all_groups": PriorityGroup.objects.all(), "can_add": can(request.user, "keygroup.manage"),
        "children": data["division"].children.all(), "limit": LIST_ROWS,
    })


@login_required
def add(request: HttpRequest) -> HttpResponse:
    """Add a member: the person by the exact ID number (within the user's area), the group, the unit."""
    if not can(request.user, "keygroup.manage"):
        return render(request, "web/forbidden.html", status=403)
    units = restrict(Unit.objects.all(), request.user, "keygroup.manage").order_by("code")[:500]
    values = {"id_number": "", "group": "", "unit": "", "since": ""}
    if request.method == "POST":
        values = {k: (request.POST.get(k) or "").strip() for k in values}
        person = restrict(Person.objects.filter(id_number=values["id_number"].upper()), request.user,
                          "keygroup.manage").first()
        try:
            if person is None:
                raise VaxopsError("person_not_found", {"person_id": None})
            result = add_members([{"person_id": person.pk, "group": values["group"], "unit": values["unit"] or None,
                                   "since": values["since"] or None}], acting_user=request.user, source=Source.WEB)
        except VaxopsError as exc:
            messages.error(request, exc.message)
        else:
            if result["added"]:
                messages.success(request, _("%(name)s was added to the key group.") % {"name": person.name})
            else:
                messages.info(request, _("%(name)s was already in the key group.") % {"name": person.name})
            return redirect(reverse("keygroups:add"))
    return render(request, "keygroups/add.html", {"units": units, "groups": PriorityGroup.objects.all(),
                                                  "values": values, "today": timezone.localdate()})
