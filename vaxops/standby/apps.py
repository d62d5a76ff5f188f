from django.apps import AppConfig


class StandbyConfig(AppConfig):
    name = "vaxops.standby"
    label = "standby"

    def ready(self) -> None:
        # The wastage avoided is one of a session's closing figures. ``vaxops.sites.figures``
        # comes with the sessions part; until it is there, the figure is only shown on the page.
        try:
            from vaxops.sites import figures
        except ImportError:
            return
        from vaxops.standby.services import closing_figures

        figures.register("wastage_avoided", closing_figures)
