from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "vaxops.registry"
    label = "registry"
