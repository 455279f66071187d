from django.contrib.auth import views as auth_views
from django.urls import path

from alongside.accounts import views

app_name = "accounts"

urlpatterns = [
    path("signin/", views.SignInView.as_view(), name="login"),
    path("signout/", auth_views.LogoutView.as_view(), name="logout"),
]
