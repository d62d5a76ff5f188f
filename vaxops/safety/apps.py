from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "vaxops.safety"
    label = "safety"
