from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignalsConfig(AppConfig):
    name = "alongside.signals"
    label = "signals"
    verbose_name = _("Early warning")

    def ready(self) -> None:
        # Registers the worker's jobs, the receivers and /metrics' gauges.
        from alongside.signals import jobs, metrics, receivers  # noqa: F401
