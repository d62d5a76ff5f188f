"""Supply pages: lots."""

urlpatterns: list = []
