"""Allocation pages under /supply/allocations/: propose from live data, review, approve.

Reads go through ``access.scope`` (``allocation.propose`` to see, ``allocation.approve`` to
approve); writes through ``supply.allocations``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, OuterRef, Sum
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vaxops.access.scope import admits, can, get_scoped, restrict
from vaxops.catalog.models import Product, product_name
from vaxops.core.errors import VaxopsError
from vaxops.core.formats import format_date
from vaxops.core.models import Source
from vaxops.supply.allocations import (
    MAX_HORIZON_DAYS,
    approve_allocation,
    binding_name,
    explain,
    propose_allocation,
    usable_balances,
)
from vaxops.supply.models import Allocation, AllocationStatus, Store

FIELD_OF = {"allocation_invalid_horizon": "horizon_days", "store_not_found": "from_store",
            "store_has_no_children": "from_store", "stock_on_hold": "from_store"}


def _forbidden(request: HttpRequest) -> HttpResponse:
    return render(request, "web/forbidden.html", {"forbidden_page": "allocations"}, status=403)


def _error(request: HttpRequest, exc: VaxopsError) -> HttpResponse:
    return render(request, "web/error.html", {"error": exc}, status=exc.status)


def sending_stores(user):
    """The stores of the user's area that have child stores to allocate to."""
    children = Store.objects.filter(parent=OuterRef("pk"), is_active=True)
    return (restrict(Store.objects.all(), user, "allocation.propose").filter(Exists(children), is_active=True)
            .select_related("division").order_by("level", "code"))


class ProposeForm(forms.Form):
    """The sending store, doses per product, the horizon and a default capacity."""

    from_store = forms.ChoiceField(label=gettext_lazy("From store"))
    horizon_days = forms.IntegerField(label=gettext_lazy("Horizon (days from today)"), min_value=1,
                                      max_value=MAX_HORIZON_DAYS, initial=14)
    default_capacity = forms.IntegerField(
        label=gettext_lazy("Capacity where no session is planned (doses, optional)"), min_value=0, required=False,
        help_text=gettext_lazy("Leave empty: such a child's capacity is not a limit."))

    def __init__(self, *args, stores, products, usable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["from_store"].choices = [(s.code, f"{s.name} · {s.code}") for s in stores]
        self.products = []
        for p in products:
            name = f"supply_{p.code}"
            self.fields[name] = forms.IntegerField(
                label=p.name, min_value=0, required=False,
                help_text=_("usable at the store: {figures}").format(figures=usable.get(p.code, "–")))
            self.products.append((p, name))

    def product_fields(self):
        return [self[name] for _p, name in self.products]

    def clean(self):
        data = super().clean()
        supply = {p.code: data.get(name) for p, name in self.products if data.get(name)}
        if not supply and not self.errors:
            raise forms.ValidationError(_("Give the doses of at least one product."))
        data["supply"] = supply
        return data


def _usable_text(stores) -> dict[str, str]:
    """Usable doses per product at each sending store, as "KD-CDC 9,000; …" help texts."""
    rows = (usable_balances(timezone.localdate()).filter(store__in=stores)
            .values("store__code", "lot__product__code").annotate(n=Sum("on_hand")).order_by("store__code"))
    text: dict[str, list[str]] = {}
    for r in rows:
        text.setdefault(r["lot__product__code"], []).append(
            f"{r['store__code']} {formats.number_format(r['n'], force_grouping=True)}")
    return {code: "; ".join(parts) for code, parts in text.items()}


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def allocations(request: HttpRequest) -> HttpResponse:
    """The allocations of the user's area and the form to propose one."""
    if not can(request.user, "allocation.propose"):
        return _forbidden(request)
    stores = list(sending_stores(request.user))
    products = list(Product.objects.filter(is_active=True).order_by("code"))
    form = ProposeForm(request.POST or None, stores=stores, products=products, usable=_usable_text(stores))
    status = 200
    error = None
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                allocation = propose_allocation(
                    from_store_code=data["from_store"], supply=data["supply"], horizon_days=data["horizon_days"],
                    default_capacity=data["default_capacity"], acting_user=request.user, source=Source.WEB)
            except VaxopsError as exc:
                error = exc
                form.add_error(FIELD_OF.get(exc.code), exc.message)
            else:
                return redirect("supply:allocation", allocation.pk)
        status = 422
    listed = list(restrict(Allocation.objects.select_related("from_store", "created_by"), request.user,
                       "allocation.propose").order_by("-created_at")[:50])
    for a in listed:
        a.supply_words = "; ".join(f"{product_name(code)} {formats.number_format(n, force_grouping=True)}"
                                   for code, n in a.supply.items())
    return render(request, "supply/allocations.html", {
        "form": form, "allocations": listed, "stores": stores, "error": error,
    }, status=status)


def _chart(lines: list, children: list[dict]) -> dict:
    """Need (first doses still to give + second doses due) against what the plan gives, per child."""
    shipped: dict[str, int] = {}
    for x in lines:
        shipped[x.store.code] = shipped.get(x.store.code, 0) + x.doses
    names, need, stock, sent = [], [], [], []
    for c in children:
        names.append(c["name"])
        need.append(c["first_dose_demand"] + sum(c["second_dose_due"].values()))
        stock.append(c["stock_used"])
        sent.append(shipped.get(c["code"], 0))
    return {"names": names, "need": need, "stock": stock, "shipped": sent,
            "labels": {"need": _("Need: first doses still to give and second doses due"),
                       "stock": _("Covered from stock on hand"), "shipped": _("Allocated now")}}


@login_required
@never_cache
@require_GET
def allocation_page(request: HttpRequest, allocation_id: int) -> HttpResponse:
    """One proposal: per child store the doses, first and second doses, what binds, and a chart."""
    try:
        allocation = get_scoped(Allocation.objects.select_related("from_store__division", "created_by", "approved_by"),
                                request.user, "allocation.propose", not_found="allocation_not_found",
                                pk=allocation_id)
    except VaxopsError as exc:
        if exc.code == "permission_denied":
            return _forbidden(request)
        return _error(request, exc)
    lines = list(allocation.lines.select_related("store", "product").order_by("store__code", "product__code"))
    stores = {x.store.code: x.store for x in lines}
    children = []
    for c in allocation.inputs.get("children", []):
        store = stores.get(c["code"])
        children.append({**c, "name": store.name if store else c["code"],
                         "due_total": sum(c["second_dose_due"].values()),
                         "lines": [x for x in lines if x.store.code == c["code"]]})
    for x in lines:
        x.binding_label = binding_name(x.binding)
        x.words = explain(x.explanation)
    for c in children:
        c["binding_label"] = binding_name(c["binding"])
        c["words"] = explain(c["lines"][0].explanation) if c["lines"] else ""
        c["shipped"] = sum(x.doses for x in c["lines"])
    may_approve = (
        allocation.status == AllocationStatus.PROPOSED
        and admits(request.user, "allocation.approve", Allocation,
                   {"from_store__division__path": allocation.from_store.division.path})
    )
    shipped_by_product = {}
    for x in lines:
        shipped_by_product[x.product.code] = shipped_by_product.get(x.product.code, 0) + x.doses
    products = {x.product.code: x.product for x in lines}
    supply = [{"product": products.get(code), "code": code, "supply": doses,
               "shipped": shipped_by_product.get(code, 0), "left": doses - shipped_by_product.get(code, 0)}
              for code, doses in allocation.supply.items()]
    return render(request, "supply/allocation.html", {
        "allocation": allocation, "children": children, "supply": supply, "may_approve": may_approve,
        "transfers": list(allocation.transfers.select_related("to_store").order_by("to_store__code")),
        "chart_data": _chart(lines, children), "inputs": allocation.inputs,
        "horizon_start": format_date(allocation.inputs.get("today", allocation.created_at.date().isoformat())),
        "horizon_end": format_date(allocation.inputs.get("horizon_end", allocation.created_at.date().isoformat())),
    })


@login_required
@require_POST
def allocation_approve(request: HttpRequest, allocation_id: int) -> HttpResponse:
    try:
        transfers = approve_allocation(allocation_id=allocation_id, acting_user=request.user, source=Source.WEB)
    except VaxopsError as exc:
        if exc.code == "permission_denied":
            return _forbidden(request)
        return _error(request, exc)
    messages.success(request, _("Approved: %(n)d transfers dispatched.") % {"n": len(transfers)})
    return redirect("supply:allocation", allocation_id)
