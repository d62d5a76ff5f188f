"""Supply pages: allocations."""

urlpatterns: list = []
