from django.apps import AppConfig


class KeygroupsConfig(AppConfig):
    name = "vaxops.keygroups"
    label = "keygroups"

    def ready(self) -> None:
        from vaxops.keygroups.report import key_groups_section
        from vaxops.reports.sections import register

        register("key_groups", 65, key_groups_section)
