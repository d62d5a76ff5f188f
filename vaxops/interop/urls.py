"""The import pages, under /imports/ (namespace ``interop``)."""

from django.urls import path, re_path

from vaxops.interop import views

app_name = "interop"
urlpatterns = [
    path("", views.imports, name="imports"),
    path("<int:job_id>/", views.job_page, name="job"),
    path("<int:job_id>/progress/", views.job_progress, name="progress"),
    path("<int:job_id>/resume/", views.job_resume, name="resume"),
    re_path(r"^(?P<job_id>[0-9]+)/report\.(?P<fmt>csv|xlsx)$", views.job_report, name="report"),
    re_path(r"^templates/(?P<kind>[a-z_]+)\.(?P<fmt>csv|xlsx)$", views.template_download, name="template"),
]
