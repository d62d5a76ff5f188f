from django.apps import AppConfig


class TargetsConfig(AppConfig):
    name = "vaxops.targets"
    label = "targets"

    def ready(self) -> None:
        from vaxops.reports.sections import register
        from vaxops.targets.report import targets_section

        register("targets", 60, targets_section)
