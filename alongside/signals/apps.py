from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignalsConfig(AppConfig):
    name = "alongside.signals"
    label = "signals"
    verbose_name = _("Early warning")

    def ready(self) -> None:
        from alongside.signals import jobs, receivers  # noqa: F401 (registers the worker's jobs and receivers)
