from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "vaxops.visits"
    label = "visits"
