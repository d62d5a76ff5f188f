from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "vaxops.core"
    label = "core"
