"""The review pages of overrides and retrospective entries and the sync conflicts, under /doses/ (namespace
``vaccination``)."""

from django.urls import path
from django.views.generic import RedirectView

from vaxops.vaccination import conflict_views, views

app_name = "vaccination"
urlpatterns = [
    path("review/", RedirectView.as_view(pattern_name="vaccination:review", permanent=False),
         {"kind": "overrides"}, name="review_index"),
    path("review/<str:kind>/", views.review, name="review"),
    path("conflicts/", conflict_views.conflicts, name="conflicts"),
]
