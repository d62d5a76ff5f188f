"""The outreach pages (/outreach/): the grid worker's phone list with the outcome in two taps,
the township and county roll-ups, and the printable village list for the circuit team.

Views are thin: reads through ``worklists`` (the area-scoping helper inside), the one POST is
``services.record_contact``, then back to the list with the outcome as a message (a reload
never posts again).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from vaxops.access.scope import can, grants_for, require, restrict
from vaxops.core.errors import VaxopsError
from vaxops.core.models import Source
from vaxops.outreach import services, worklists
from vaxops.outreach.outcomes import CHANNELS, CONCERNS, OUTCOMES, PLACES
from vaxops.outreach.rollup import rollup
from vaxops.registry.models import Deferral

KIND_LABELS = {"unvaccinated": gettext_lazy("Never vaccinated"), "due": gettext_lazy("Due soon"),
               "overdue": gettext_lazy("Overdue"), "booster": gettext_lazy("Booster")}
#: the outcomes one tap records (nothing more to say)
ONE_TAP = ("will_come", "unreachable", "hesitant", "vaccinated_elsewhere", "moved_out", "deceased")


def _refusal(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    if exc.code == "permission_denied":
        return render(request, "web/forbidden.html", status=403)
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def _today(request: HttpRequest | None = None) -> dt.date:
    """The list's day: ``?on=YYYY-MM-DD`` (a past day's list, as the demo shows it), else today."""
    from vaxops.campaign.services import TZ

    if request is not None and request.GET.get("on"):
        try:
            return dt.date.fromisoformat(request.GET["on"][:10])
        except ValueError:
            pass
    return timezone.now().astimezone(TZ).date()


def _home_code(request: HttpRequest) -> str:
    """The division asked for, else the user's own area (their first division grant)."""
    code = request.GET.get("division") or request.POST.get("division")
    if code:
        return code[:15]
    from vaxops.regions.models import Division

    for g in grants_for(request.user):
        if g.division_path:
            return g.division_path.rstrip("/").rsplit("/", 1)[-1]
    root = Division.objects.filter(parent__isnull=True).order_by("code").first()
    return root.code if root else ""


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind") or request.POST.get("kind") or "unvaccinated"
    return kind if kind in worklists.KINDS else "unvaccinated"


@login_required
@never_cache
@require_GET
def worklist(request: HttpRequest) -> HttpResponse:
    try:
        require(request.user, "outreach.view")
        division = worklists.scoped_division(request.user, _home_code(request))
    except VaxopsError as exc:
        return _refusal(request, exc)
    today, kind = _today(request), _kind(request)
    data = worklists.worklist(request.user, division, kind, today, limit=200)
    counts = {k: worklists.count(request.user, division, k, today) for k in worklists.KINDS}
    return render(request, "outreach/worklist.html", {
        "division": division, "kind": kind, "data": data, "today": today,
        "tabs": [(k, KIND_LABELS[k], counts[k]) for k in worklists.KINDS],
        "can_record": can(request.user, "outreach.record"), "one_tap": [(c, OUTCOMES[c].label) for c in ONE_TAP],
        "channels": CHANNELS.items(), "concerns": CONCERNS.items(), "places": PLACES.items(),
        "reasons": Deferral.Reason.choices, "back_on": today + dt.timedelta(days=7), "new_uuid": uuid.uuid4,
    })


@login_required
@require_POST
def contact(request: HttpRequest) -> HttpResponse:
    p = request.POST
    back = p.get("next") or reverse("outreach:worklist")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()}):
        back = reverse("outreach:worklist")
    try:
        until = dt.date.fromisoformat(p["until"]) if p.get("until") else None
        person_id = int(p.get("person_id", ""))
        session_id = int(p["session_id"]) if p.get("session_id") else None
        duplicate_of = int(p["duplicate_of"]) if p.get("duplicate_of") else None
    except (ValueError, OverflowError):
        messages.error(request, _("Some fields are missing or have the wrong type."))
        return redirect(back)
    outcome = p.get("outcome", "")
    spec = OUTCOMES.get(outcome)
    try:
        services.record_contact(
            client_uuid=p.get("client_uuid") or uuid.uuid4(), person_id=person_id, channel=p.get("channel", "phone"),
            outcome=outcome, until=until if spec is not None and spec.hold else None, note=p.get("note", ""),
            session_id=session_id, concern=p.get("concern", "") if outcome == "refused" else "",
            place=p.get("place", "") if outcome == "away" else "",
            reason=p.get("reason", "") if outcome == "contraindicated" else "", duplicate_of=duplicate_of,
            acting_user=request.user, source=Source.WEB,
        )
    except (VaxopsError, ValueError) as exc:
        messages.error(request, exc.message if isinstance(exc, VaxopsError) else _("Some fields are missing or have the wrong type."))
        return redirect(back)
    messages.success(request, _("Recorded: %(outcome)s.") % {"outcome": spec.label})
    return redirect(back)


@login_required
@never_cache
@require_GET
def rollup_page(request: HttpRequest) -> HttpResponse:
    try:
        require(request.user, "outreach.view")
        division = worklists.scoped_division(request.user, _home_code(request))
    except VaxopsError as exc:
        return _refusal(request, exc)
    figures = rollup(division, timezone.now(), _today(),
                     restrict_to=lambda qs: restrict(qs, request.user, "outreach.view"))
    return render(request, "outreach/rollup.html", {"division": division, "figures": figures,
                                                    "ancestors": _ancestors(request.user, division)})


def _ancestors(user, division) -> list:
    from vaxops.access.scope import admits
    from vaxops.regions.models import Division

    codes = division.path.strip("/").split("/")[:-1]
    found = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [found[c] for c in codes if c in found and admits(user, "outreach.view", Division,
                                                              {"path": found[c].path})]


@login_required
@never_cache
@require_GET
def village_list(request: HttpRequest) -> HttpResponse:
    try:
        require(request.user, "outreach.view")
        division = worklists.scoped_division(request.user, _home_code(request))
    except VaxopsError as exc:
        return _refusal(request, exc)
    today = _today(request)
    lists = [(k, KIND_LABELS[k], worklists.worklist(request.user, division, k, today, limit=worklists.MAX_LIMIT))
             for k in worklists.KINDS]
    return render(request, "outreach/print.html", {"division": division, "lists": lists, "today": today,
                                                   "printed_at": timezone.now()})
