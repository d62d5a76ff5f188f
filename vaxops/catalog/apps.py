from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "vaxops.catalog"
    label = "catalog"
