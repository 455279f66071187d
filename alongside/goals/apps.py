from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GoalsConfig(AppConfig):
    name = "alongside.goals"
    label = "goals"
    verbose_name = _("Goals and growth")

    def ready(self) -> None:
        # Registers worker jobs, connects receivers, and adds goal review to appointments' agenda items.
        from alongside.goals import jobs, receivers, review  # noqa: F401
