"""The daily report's pages (namespace "reports", under /reports/)."""

from __future__ import annotations

from django.urls import path

from vaxops.reports import views

app_name = "reports"

urlpatterns = [
    path("daily/", views.daily, name="daily"),
    path("daily/xlsx/", views.daily_xlsx, name="daily_xlsx"),
    path("daily/issue/", views.issue, name="issue"),
]
