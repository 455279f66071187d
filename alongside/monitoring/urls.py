from django.urls import path

from alongside.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("me/checkin/", views.checkin, name="checkin"),
    path("me/history/", views.history, name="history"),
]
