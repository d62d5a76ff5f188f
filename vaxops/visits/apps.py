from django.apps import AppConfig


class VisitsConfig(AppConfig):
    name = "vaxops.visits"
    label = "visits"

    def ready(self) -> None:
        # A closing session keeps its measured waits among its final figures (sites.figures,
        # added with the session state machine; absent until then).
        try:
            from vaxops.sites.figures import register
        except ImportError:
            return
        from vaxops.visits.figures import session_waits

        register("waits", session_waits)
