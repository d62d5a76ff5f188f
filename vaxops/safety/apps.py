from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "vaxops.safety"
    label = "safety"

    def ready(self) -> None:
        # A closed session's final figures carry its AEFI counts (sites.figures, once the
        # sessions part provides it).
        try:
            from vaxops.sites import figures
        except ImportError:
            return
        from vaxops.safety.stats import session_figures

        figures.register("aefi", session_figures)
