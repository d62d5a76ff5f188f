"""The outreach pages (namespace "outreach", under /outreach/)."""

from __future__ import annotations

from django.urls import path

from vaxops.outreach import views

app_name = "outreach"

urlpatterns = [
    path("", views.worklist, name="worklist"),
    path("contact/", views.contact, name="contact"),
    path("rollup/", views.rollup_page, name="rollup"),
    path("print/", views.village_list, name="print"),
]
