from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "alongside.monitoring"
    label = "monitoring"
    verbose_name = _("Self-monitoring")

    def ready(self) -> None:
        from alongside.monitoring import receivers  # noqa: F401 (connects the receivers)
