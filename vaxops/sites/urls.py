from django.urls import path

from vaxops.sites import views

app_name = "sites"

urlpatterns = [
    path("", views.planner, name="planner"),
    path("plan-week/", views.plan_week, name="plan_week"),
    path("new/", views.add_session, name="add"),
    path("<int:session_id>/", views.session_page, name="session"),
]
