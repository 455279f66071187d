from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoalsConfig(AppConfig):
    name = "alongside.goals"
    label = "goals"
    verbose_name = _("Goals and growth")

    def ready(self) -> None:
        from alongside.goals import jobs, receivers  # noqa: F401 (registers worker jobs, connects receivers)
