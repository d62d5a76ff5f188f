from django.apps import AppConfig


class AppointmentsConfig(AppConfig):
    name = "vaxops.appointments"
    label = "appointments"

    def ready(self) -> None:
        from vaxops.appointments import reminders, services
        from vaxops.outbox import validity
        from vaxops.sites import closing, figures

        closing.register("appointments_no_shows", services.close_bookings)
        figures.register("appointments", services.closing_figures)
        validity.register("booking-day-before", reminders.still_holding)
