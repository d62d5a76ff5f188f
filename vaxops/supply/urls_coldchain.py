"""Supply pages: coldchain (a store's temperature log, the open excursions to review)."""

from django.urls import path

from vaxops.supply import views_coldchain

urlpatterns: list = [
    path("stores/<str:code>/temperatures/", views_coldchain.temperatures, name="temperatures"),
    path("excursions/", views_coldchain.excursions, name="excursions"),
]
