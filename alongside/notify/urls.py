from django.urls import path

from alongside.notify import views

app_name = "notify"

urlpatterns = [
    # Each person's own inbox and notification choices
    path("me/inbox/", views.inbox, name="inbox"),
    path("me/inbox/count/", views.unread_count, name="unread_count"),
    path("me/inbox/read-all/", views.read_all, name="read_all"),
    path("me/inbox/<int:pk>/read/", views.read, name="read"),
    path("me/notifications/", views.preferences, name="preferences"),
    # An organisation's admins: deliveries given up on
    path("org/<slug:slug>/deliveries/", views.dead_letters, name="dead_letters"),
    path("org/<slug:slug>/deliveries/<int:pk>/retry/", views.retry, name="retry"),
    path("org/<slug:slug>/webhooks/", views.webhooks, name="webhooks"),
    path("org/<slug:slug>/webhooks/<int:pk>/off/", views.webhook_off, name="webhook_off"),
]
