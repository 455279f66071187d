from django.urls import path

from alongside.audit import views

app_name = "audit"

urlpatterns = [
    path("org/<slug:slug>/audit/", views.org_log, name="org_log"),
]
