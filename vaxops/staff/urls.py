"""Staff pages (namespace "staff", prefix /staff/)."""

from django.urls import path

from vaxops.staff import views

app_name = "staff"

urlpatterns: list = [
    path("", views.staff_list, name="staff"),
    path("sessions/<int:session_id>/readiness/", views.readiness_page, name="readiness"),
    path("sessions/<int:session_id>/roster/", views.roster_page, name="roster"),
    path("deployments/", views.deployments_page, name="deployments"),
    path("county/", views.county_page, name="county"),
]
