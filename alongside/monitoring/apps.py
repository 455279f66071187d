from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "alongside.monitoring"
    label = "monitoring"
    verbose_name = _("Self-monitoring")

    def ready(self) -> None:
        # Connects the receivers, and registers the worker's job and /metrics' gauges.
        from alongside.monitoring import jobs, metrics, receivers  # noqa: F401
