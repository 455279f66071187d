from django.contrib.auth import views as auth_views

from alongside.accounts.forms import SignInForm


class SignInView(auth_views.LoginView):
    template_name = "accounts/signin.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True
