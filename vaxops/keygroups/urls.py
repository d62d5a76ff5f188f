"""The key-group pages (namespace "keygroups", under /key-groups/)."""

from __future__ import annotations

from django.urls import path

from vaxops.keygroups import views

app_name = "keygroups"

urlpatterns = [
    path("", views.overview, name="overview"),
    path("add/", views.add, name="add"),
]
