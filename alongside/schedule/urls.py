from django.urls import path

from alongside.schedule import views

app_name = "schedule"

urlpatterns = [
    # Appointments
    path("me/schedule/", views.my_schedule, name="mine"),
]
