from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "vaxops.staff"
    label = "staff"
