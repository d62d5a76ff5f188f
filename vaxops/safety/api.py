"""JSON API routers of this app (registered in vaxops.access.scope.register_routers)."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["aefi"])
