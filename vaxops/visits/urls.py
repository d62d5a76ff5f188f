"""The visit pages (namespace "visits", under /visits/)."""

from __future__ import annotations

from django.urls import path

from vaxops.visits import views

app_name = "visits"

urlpatterns = [
    path("sessions/<int:session_id>/desk/", views.desk, name="desk"),
    path("sessions/<int:session_id>/desk/check-in/", views.desk_check_in, name="desk_check_in"),
    path("<int:visit_id>/<str:step>/", views.desk_step, name="desk_step"),
    path("sessions/<int:session_id>/board/", views.board_page, name="board"),
    path("sessions/<int:session_id>/board/counts/", views.board_part, name="board_counts"),
    path("sessions/<int:session_id>/board/stations/", views.board_stations, name="board_stations"),
    path("sessions/<int:session_id>/board/what-if/", views.board_whatif, name="board_whatif"),
    path("sessions/<int:session_id>/figures/", views.figures_page, name="figures"),
    path("screen/<str:token>/", views.screen, name="screen"),
]
