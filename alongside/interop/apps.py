from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InteropConfig(AppConfig):
    name = "alongside.interop"
    label = "interop"
    verbose_name = _("Interoperability and data rights")

    def ready(self) -> None:
        from alongside.interop import jobs  # noqa: F401 (registers worker jobs)
