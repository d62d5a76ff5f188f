from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "vaxops.access"
    label = "access"
