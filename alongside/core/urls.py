from django.urls import path

from alongside.core import views

app_name = "core"

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("ping", views.ping, name="ping"),
    path("metrics", views.metrics_view, name="metrics"),
]
