from django.apps import AppConfig


class SupplyConfig(AppConfig):
    name = "vaxops.supply"
    label = "supply"
