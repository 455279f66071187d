from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WebConfig(AppConfig):
    """The pages that compose the domain apps: home pages per role and the crisis page."""

    name = "alongside.web"
    label = "web"
    verbose_name = _("Web")
