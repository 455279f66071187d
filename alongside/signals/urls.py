from django.urls import path

from alongside.signals import views

app_name = "signals"

urlpatterns = [
    path("team/alerts/", views.alert_list, name="alerts"),
    path("team/alerts/on-call/", views.on_call, name="on_call"),
    path("team/alerts/<int:alert_pk>/", views.alert_detail, name="alert"),
    path("team/alerts/<int:alert_pk>/acknowledge/", views.acknowledge, name="acknowledge"),
    path("team/alerts/<int:alert_pk>/resolve/", views.resolve, name="resolve"),
    path("me/alerts/", views.my_alerts, name="my_alerts"),
]
