"""The supply pages (/supply/…), one module per area of work."""

from django.urls import include, path

app_name = "supply"

urlpatterns = [
    path("", include("vaxops.supply.urls_stock")),
    path("", include("vaxops.supply.urls_coldchain")),
    path("", include("vaxops.supply.urls_lots")),
    path("", include("vaxops.supply.urls_allocations")),
]
