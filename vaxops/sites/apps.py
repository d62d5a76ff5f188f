from django.apps import AppConfig


class SitesConfig(AppConfig):
    name = "vaxops.sites"
    label = "sites"
