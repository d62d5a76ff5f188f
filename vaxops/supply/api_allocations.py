"""Allocation proposals and their approval: /api/v1/allocations (docs/supply.md)."""

from __future__ import annotations

from ninja import Field, Router, Schema, Status

from vaxops.access.scope import get_scoped
from vaxops.core.models import Source
from vaxops.registry.api import ErrorOut
from vaxops.supply.allocations import approve_allocation, binding_name, explain, propose_allocation
from vaxops.supply.models import Allocation

router = Router(tags=["allocations"])


class AllocationIn(Schema):
    from_store: str = Field(description="The sending store's code (a prefecture or county store of your area).")
    supply: dict[str, int] = Field(description="Doses to share out by product code; at most the store's usable stock.")
    horizon_days: int = Field(14, description="Days from today over which second doses due and sessions count (1-90).")
    default_capacity: int | None = Field(
        None, description="Doses a child can give in the horizon when none of its sites has a session planned; "
        "without it such a child's capacity is not a limit.")


class AllocationChildOut(Schema):
    store: str
    store_name: str
    product: str
    doses: int
    first_doses: int = Field(description="Doses of this product shipped for first doses.")
    second_doses: int = Field(description="Doses of this product shipped for due second doses.")
    binding: str = Field(description="What stops the child getting more: supply, demand, capacity, maximum, minimum.")
    binding_name: str
    explanation: dict = Field(description="The figures behind it: first_dose_demand, second_dose_due, "
                              "stock_on_hand, capacity, capacity_source, weight, weight_reasons, first_dose_fill…")
    explanation_text: str = Field(description="The same in words, in the request's language.")


class AllocationOut(Schema):
    id: int
    status: str
    from_store: str
    supply: dict[str, int]
    horizon_days: int
    created_at: str
    approved_at: str | None
    children: list[AllocationChildOut]
    transfers: list[int]


class ApprovalOut(Schema):
    id: int
    status: str
    transfers: list[int]


def allocation_out(allocation: Allocation) -> dict:
    lines = allocation.lines.select_related("store", "product").order_by("store__code", "product__code")
    return {
        "id": allocation.pk, "status": allocation.status, "from_store": allocation.from_store.code,
        "supply": allocation.supply, "horizon_days": allocation.inputs.get("horizon_days", 0),
        "created_at": allocation.created_at.isoformat(),
        "approved_at": allocation.approved_at.isoformat() if allocation.approved_at else None,
        "children": [
            {"store": x.store.code, "store_name": x.store.name, "product": x.product.code, "doses": x.doses,
             "first_doses": x.first_doses, "second_doses": x.second_doses, "binding": x.binding,
             "binding_name": binding_name(x.binding), "explanation": x.explanation,
             "explanation_text": explain(x.explanation)}
            for x in lines
        ],
        "transfers": sorted(allocation.transfers.values_list("pk", flat=True)),
    }


@router.post("", response={201: AllocationOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut,
                           422: ErrorOut}, summary="Propose a split of a store's supply among its child stores")
def create_allocation(request, payload: AllocationIn):
    allocation = propose_allocation(
        from_store_code=payload.from_store, supply=payload.supply, horizon_days=payload.horizon_days,
        default_capacity=payload.default_capacity, acting_user=request.user, source=Source.API,
    )
    return Status(201, allocation_out(allocation))


@router.get("/{allocation_id}", response={200: AllocationOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut})
def get_allocation(request, allocation_id: int):
    allocation = get_scoped(Allocation.objects.select_related("from_store"), request.user, "allocation.propose",
                            not_found="allocation_not_found", pk=allocation_id)
    return allocation_out(allocation)


@router.post("/{allocation_id}/approve", response={200: ApprovalOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut,
                                                   409: ErrorOut, 422: ErrorOut},
             summary="Approve a proposal: its transfers are dispatched at once")
def approve(request, allocation_id: int):
    transfers = approve_allocation(allocation_id=allocation_id, acting_user=request.user, source=Source.API)
    return {"id": allocation_id, "status": "approved", "transfers": [t.pk for t in transfers]}
