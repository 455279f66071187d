from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "alongside.notify"
    label = "notify"
    verbose_name = _("Notifications")

    def ready(self) -> None:
        from alongside.notify import jobs, metrics  # noqa: F401 (registers the worker's jobs and /metrics' gauges)
