"""Supply pages: coldchain."""

urlpatterns: list = []
