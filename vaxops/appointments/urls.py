"""The appointments pages (namespace "appointments", under /appointments/)."""

from __future__ import annotations

from django.urls import path

from vaxops.appointments import views

app_name = "appointments"

urlpatterns = [
    path("sessions/<int:session_id>/", views.grid, name="grid"),
    path("sessions/<int:session_id>/slots/", views.set_slots, name="set_slots"),
    path("sessions/<int:session_id>/book/", views.book, name="book"),
    path("<int:appointment_id>/cancel/", views.cancel, name="cancel"),
    path("desk/next/", views.desk_next, name="desk_next"),
    path("desk/book/", views.desk_book, name="desk_book"),
]
