"""Supply pages: stock."""

urlpatterns: list = []
