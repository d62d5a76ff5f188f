from django.apps import AppConfig


class VaccinationConfig(AppConfig):
    name = "vaxops.vaccination"
    label = "vaccination"
