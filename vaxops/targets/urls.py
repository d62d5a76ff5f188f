"""The targets page (namespace "targets", under /targets/)."""

from __future__ import annotations

from django.urls import path

from vaxops.targets import views

app_name = "targets"

urlpatterns = [path("", views.progress, name="progress")]
