"""AEFI pages: the report form, the list with deadlines, one report, the cluster alerts."""

from __future__ import annotations

from django.urls import path

from vaxops.safety import views

app_name = "safety"

urlpatterns: list = [
    path("", views.report_list, name="list"),
    path("new/", views.report_new, name="report_new"),
    path("clusters/", views.cluster_list, name="clusters"),
    path("clusters/<int:cluster_id>/act/", views.cluster_act, name="cluster_act"),
    path("<int:report_id>/", views.report_detail, name="report"),
]
