from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CareConfig(AppConfig):
    name = "alongside.care"
    label = "care"
    verbose_name = _("Care team and consent")

    def ready(self) -> None:
        from alongside.care import receivers  # noqa: F401 (connects the invitation signal)
