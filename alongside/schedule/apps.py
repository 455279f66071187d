from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ScheduleConfig(AppConfig):
    name = "alongside.schedule"
    label = "schedule"
    verbose_name = _("Appointments and routines")

    def ready(self) -> None:
        from alongside.schedule import jobs, receivers  # noqa: F401 (connects receivers, registers worker jobs)
