from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GroupsConfig(AppConfig):
    name = "alongside.groups"
    label = "groups"
    verbose_name = _("Peer support groups")

    def ready(self) -> None:
        from alongside.groups import jobs  # noqa: F401 (registers worker jobs)
