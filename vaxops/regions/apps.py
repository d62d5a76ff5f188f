from django.apps import AppConfig


class RegionsConfig(AppConfig):
    name = "vaxops.regions"
    label = "regions"
