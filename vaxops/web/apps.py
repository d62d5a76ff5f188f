from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "vaxops.web"
    label = "web"
