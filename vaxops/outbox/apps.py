from django.apps import AppConfig


class OutboxConfig(AppConfig):
    name = "vaxops.outbox"
    label = "outbox"
