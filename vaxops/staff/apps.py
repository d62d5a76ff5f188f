from django.apps import AppConfig


class StaffConfig(AppConfig):
    name = "vaxops.staff"
    label = "staff"

    def ready(self) -> None:
        # The session's closing figures gain its staff-hours (vaxops.sites.figures, the sessions
        # part); on a tree without that registry there is nothing to register with.
        try:
            from vaxops.sites import figures
        except ImportError:
            return
        from vaxops.staff.services import staff_hours

        figures.register("staff_hours", staff_hours)
