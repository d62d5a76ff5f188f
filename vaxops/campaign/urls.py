"""The campaign's pages. Included by the shell's URLconf (``vaxops.web.urls``) without a
namespace of its own, so the dashboard keeps its path ``/`` and its name ``web:dashboard``
(bookmarks, the login redirect and the navigation use them)."""

from django.urls import path

from vaxops.campaign import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
]
