"""Sites within the user's area."""

from __future__ import annotations

from ninja import Router, Schema

from vaxops.access.scope import get_scoped, require, restrict
from vaxops.regions.models import Division
from vaxops.registry.api import ErrorOut
from vaxops.sites.models import Site

router = Router(tags=["sites"])


class SiteOut(Schema):
    code: str
    name: str
    kind: str
    division_code: str


class SiteList(Schema):
    items: list[SiteOut]
    count: int


@router.get("", response={200: SiteList, 404: ErrorOut})
def list_sites(request, division: str | None = None):
    require(request.user, "site.view")
    sites = restrict(Site.objects.select_related("division"), request.user, "site.view")
    if division:
        div = get_scoped(
            Division.objects.all(), request.user, "division.view",
            not_found="division_not_found", detail={"division_code": division}, code=division,
        )
        sites = sites.filter(division__path__startswith=div.path)
    items = [{"code": s.code, "name": s.name, "kind": s.kind, "division_code": s.division.code} for s in sites]
    return {"items": items, "count": len(items)}
