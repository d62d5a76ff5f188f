from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "vaxops.outreach"
    label = "outreach"

    def ready(self) -> None:
        from vaxops.outbox import validity
        from vaxops.outreach import duetable, reminders, rollup
        from vaxops.reports import sections

        duetable.connect_signals()
        validity.register("dose-due", reminders.still_due)
        validity.register("dose-overdue", reminders.still_due)
        sections.register("outreach", 70, rollup.report_section)
