from django.apps import AppConfig


class ReportsConfig(AppConfig):
    """The daily report (日报): figures at a cut-off, issued and frozen, as JSON, xlsx and print."""

    name = "vaxops.reports"
    label = "reports"
