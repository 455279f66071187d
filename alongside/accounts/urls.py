from django.contrib.auth import views as auth_views
from django.urls import path

from alongside.accounts import org_views, views

app_name = "accounts"

urlpatterns = [
    path("signin/", views.SignInView.as_view(), name="login"),
    path("signout/", auth_views.LogoutView.as_view(), name="logout"),
    path("signout/everywhere/", views.sign_out_everywhere_view, name="sign_out_everywhere"),
    path("two-factor/", views.two_factor_step, name="two_factor"),
    path("security/", views.security, name="security"),
    path("contact/", views.contact_details, name="contact_details"),
    path("time-zone/", views.time_zone, name="time_zone"),
    path("security/recovery-codes/", views.new_recovery_codes, name="new_recovery_codes"),
    path("security/tokens/", views.new_token, name="new_token"),
    path("security/tokens/<int:token_pk>/revoke/", views.revoke_token, name="revoke_token"),
    path("password-reset/", views.PasswordResetView.as_view(), name="password_reset"),
    path(
        "password-reset/sent/",
        auth_views.PasswordResetDoneView.as_view(template_name="accounts/password_reset_sent.html"),
        name="password_reset_sent",
    ),
    path("invite/<str:token>/", views.accept_invitation, name="accept_invitation"),
    path("reset/<uidb64>/<token>/", views.PasswordResetConfirmView.as_view(), name="password_reset_confirm"),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(template_name="accounts/password_reset_done.html"),
        name="password_reset_done",
    ),
]

# Organisation administration (mounted at /org/ by alongside.urls).
org_urlpatterns = [
    path("<slug:slug>/audit/", org_views.org_audit_log, name="audit_log"),
    path("<slug:slug>/settings/", org_views.organisation_settings, name="settings"),
]
