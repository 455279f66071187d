from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProgramsConfig(AppConfig):
    name = "alongside.programs"
    label = "programs"
    verbose_name = _("Programs")

    def ready(self) -> None:
        from alongside.programs import receivers  # noqa: F401 (connects the invitation signal)
