"""Supply pages: allocations (propose from live data, review, approve)."""

from django.urls import path

from vaxops.supply import views_allocations as views

urlpatterns: list = [
    path("allocations/", views.allocations, name="allocations"),
    path("allocations/<int:allocation_id>/", views.allocation_page, name="allocation"),
    path("allocations/<int:allocation_id>/approve/", views.allocation_approve, name="allocation_approve"),
]
