from django.apps import AppConfig


class InteropConfig(AppConfig):
    name = "vaxops.interop"
    label = "interop"
    verbose_name = "Interoperability: imports"
    default_auto_field = "django.db.models.BigAutoField"
