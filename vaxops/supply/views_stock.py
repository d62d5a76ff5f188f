"""The stock pages: the stores of the user's area (/supply/) and one store's stock
(/supply/stores/<code>/). The forms that move stock are in ``views_stock_forms``.

Views are thin: they read through ``vaxops.access.scope`` (``store_figures`` for the figures)
and show a refusal as a page in plain words: out of the area → 404, a role that does not allow
the page → 403, anonymous → the login page.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from vaxops.access.scope import admits, can, get_scoped
from vaxops.core.errors import VaxopsError
from vaxops.supply.models import Store
from vaxops.supply.store_figures import store_overview, store_page

# What a user may do at a store, as the store page offers it (action → context flag).
STORE_ACTIONS = {
    "stock.receive_shipment": "can_receive_shipment",
    "stock.dispatch": "can_dispatch",
    "stock.receive": "can_receive",
    "stock.count": "can_count",
    "stock.adjust": "can_adjust",
}


def forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "supply/forbidden.html", status=403)


def refusal(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    """A refusal of the whole page: 403 with advice, anything else with its message."""
    if exc.code == "permission_denied":
        return forbidden(request)
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def scoped_store(user: Any, code: str, action: str) -> Store:
    """The active store ``code`` if ``action`` reaches it (``store_not_found`` otherwise)."""
    return get_scoped(Store.objects.filter(is_active=True).select_related("division", "parent", "site"), user,
                      action, not_found="store_not_found", detail={"store": code}, code=code)


def store_actions(user: Any, store: Store) -> dict[str, bool]:
    """Which forms the user may open at ``store`` (the same rules as ``scoped_store``)."""
    row = {"division__path": store.division.path, "site_id": store.site_id}
    return {flag: admits(user, action, Store, row) for action, flag in STORE_ACTIONS.items()}


@login_required
@never_cache
@require_GET
def stores(request: HttpRequest) -> HttpResponse:
    """The stores of the user's area by level, with doses on hand and what needs attention."""
    if not can(request.user, "stock.view"):
        return forbidden(request)
    return render(request, "supply/stores.html", {
        "groups": store_overview(request.user),
        "can_receive_shipment": can(request.user, "stock.receive_shipment"),
        "can_receive": can(request.user, "stock.receive"),
        "can_trace": can(request.user, "lot.trace"),
        "can_allocate": can(request.user, "allocation.propose") or can(request.user, "allocation.approve"),
        "can_see_excursions": can(request.user, "excursion.view"),
    })


@login_required
@never_cache
@require_GET
def store(request: HttpRequest, code: str) -> HttpResponse:
    """One store's stock: lots, days of supply, holds, transfers, recent events, differences."""
    try:
        found = scoped_store(request.user, code, "stock.view")
    except VaxopsError as exc:
        return refusal(request, exc)
    context = store_page(found, request.user)
    context.update(store_actions(request.user, found))
    return render(request, "supply/store.html", context)
