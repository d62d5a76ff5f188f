"""The standby pages (namespace "standby", under /standby/)."""

from __future__ import annotations

from django.urls import path

from vaxops.standby import views

app_name = "standby"

urlpatterns = [
    path("sessions/<int:session_id>/", views.session, name="session"),
    path("sessions/<int:session_id>/offers/", views.offer_now, name="offer_now"),
    path("sessions/<int:session_id>/sign-up/", views.sign_up, name="sign_up"),
    path("offers/<int:offer_id>/confirm/", views.confirm, name="confirm"),
    path("offers/<int:offer_id>/decline/", views.decline, name="decline"),
]
