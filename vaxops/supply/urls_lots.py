"""Supply pages: lots (their trace, quarantine, recall and release, and their recipients)."""

from django.urls import path

from vaxops.supply import views_lots

urlpatterns: list = [
    path("lots/", views_lots.lot_list, name="lots"),
    path("lots/<str:lot_number>/", views_lots.lot_detail, name="lot"),
    path("lots/<str:lot_number>/recipients.csv", views_lots.lot_recipients_csv, name="lot_recipients_csv"),
]
