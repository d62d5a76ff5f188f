from django.apps import AppConfig


class StandbyConfig(AppConfig):
    name = "vaxops.standby"
    label = "standby"
