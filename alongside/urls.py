from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.generic import RedirectView

from alongside.accounts.urls import org_urlpatterns
from alongside.api import api

admin.site.site_header = _("Alongside platform administration")
admin.site.site_title = _("Alongside admin")

urlpatterns = [
    # The API first: its calls (a phone's check-ins) are most of the traffic, and Django tries patterns in order, so
    # behind the pages' few hundred patterns each call would first be compared with every one of them.
    path("api/v1/", api.urls),
    path("", include("alongside.core.urls")),
    path("", include("alongside.web.urls")),
    path("accounts/", include("alongside.accounts.urls")),
    path("", include("alongside.care.urls")),
    path("", include("alongside.care.plan_urls")),
    path("", include("alongside.programs.urls")),
    path("", include("alongside.monitoring.urls")),
    path("", include("alongside.schedule.urls")),
    path("", include("alongside.notify.urls")),
    path("", include("alongside.signals.urls")),
    path("", include("alongside.groups.urls")),
    path("", include("alongside.goals.urls")),
    path("", include("alongside.interop.urls")),
    path("org/", include((org_urlpatterns, "org"))),
    # The API's interactive description lives at /api/docs (and /api/v1/docs).
    path("api/docs", RedirectView.as_view(url="/api/v1/docs", permanent=False), name="api_docs"),
    path("admin/", admin.site.urls),
]
