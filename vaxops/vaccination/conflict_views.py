"""The page of sync conflicts (/doses/conflicts/): both records side by side, in words, and the
form that keeps one of them.

Thin: rows come from ``vaccination.conflicts.conflicts_for`` (scoped by ``access.scope``, the
same query as ``GET /api/v1/doses/conflicts``); the form calls ``resolve_conflict``, whose
refusal is shown on the conflict's card (the conflict stays open).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods

from vaxops.access.scope import can
from vaxops.campaign.services import TZ
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date
from vaxops.core.models import Source
from vaxops.vaccination.conflicts import conflict_row, conflicts_for, resolve_conflict

PAGE_SIZE = 30
TABS = {"open": _("To resolve"), "closed": _("Resolved")}


def _when(value) -> dict[str, str] | None:
    if value is None:
        return None
    local = value.astimezone(TZ)
    return {"date": format_date(local), "time": f"{local:%H:%M}"}


def _card(conflict, error: VaxopsError | None = None, posted: dict | None = None) -> dict:
    row = conflict_row(conflict)
    for side in ("incoming", "existing"):
        row[side]["when"] = _when(row[side]["administered_at"])
    row["received"] = _when(row["received_at"])
    row["resolved"] = _when(row["resolved_at"])
    row["error"] = error
    row["posted"] = posted or {}
    return row


@login_required
@require_http_methods(["GET", "POST"])
def conflicts(request: HttpRequest) -> HttpResponse:
    """Open or resolved conflicts of the user's area; POST resolves one (site manager, county command)."""
    status = request.GET.get("status") if request.GET.get("status") in TABS else "open"
    error, posted, failed_id = None, None, None
    if request.method == "POST":
        try:
            conflict_id = int(request.POST.get("conflict", ""))
        except ValueError:
            conflict_id = 0
        posted = {"keep": request.POST.get("keep", ""), "reason": request.POST.get("reason", "")}
        try:
            resolve_conflict(conflict_id, keep=posted["keep"], reason=posted["reason"], acting_user=request.user,
                             source=Source.WEB)
        except VaxopsError as exc:
            error, failed_id = exc, conflict_id
        else:
            return redirect(reverse("vaccination:conflicts") + "?" + urlencode({"status": status, "done": conflict_id}))
    try:
        rows = conflicts_for(request.user, status=status)
        count = rows.count()
        page = list(rows[:PAGE_SIZE])
    except VaxopsError as exc:
        return render(request, "web/error.html", {"error": exc}, status=exc.status)
    cards = [_card(c, error if c.pk == failed_id else None, posted if c.pk == failed_id else None) for c in page]
    context = {
        "status": status,
        "tabs": [{"status": k, "name": name} for k, name in TABS.items()],
        "cards": cards,
        "count": count,
        "shown": len(page),
        "may_resolve": can(request.user, "conflict.resolve"),
        "done": request.GET.get("done", ""),
        "page_error": error if error is not None and failed_id not in {c["id"] for c in cards} else None,
    }
    return render(request, "vaccination/conflicts.html", context, status=error.status if error else 200)
