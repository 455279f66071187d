from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django_otp import login as otp_login

from alongside.accounts import actions, invitations, tokens, two_factor
from alongside.accounts.forms import (
    AcceptInvitationForm,
    CodeForm,
    ContactDetailsForm,
    EnrolForm,
    SignInForm,
    TimeZoneForm,
    TokenForm,
)
from alongside.accounts.models import ApiToken, User
from alongside.audit.log import client_ip, record
from alongside.audit.models import AuditAction
from alongside.core import ratelimit
from alongside.core.forms import add_domain_errors


class SignInView(auth_views.LoginView):
    template_name = "accounts/signin.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


def _next_url(request, fallback: str = "/") -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or fallback
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


@login_required
def two_factor_step(request):
    """After the password: verify a code, or (first time) set up an authenticator app."""
    user = request.user
    if user.is_verified():
        return redirect(_next_url(request))
    if two_factor.has_device(user):
        form = CodeForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            device = two_factor.verify(user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                return redirect(_next_url(request))
            form.add_error("code", two_factor.refusal_message(user))
        status = 400 if form.errors else 200
        return render(
            request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request)}, status=status
        )

    device = two_factor.pending_device(user)
    form = EnrolForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        codes = two_factor.confirm_device(user, device, form.cleaned_data["code"], request=request)
        if codes is not None:
            device.refresh_from_db()
            otp_login(request, device)
            return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": _next_url(request)})
        form.add_error("code", two_factor.refusal_message(user, setting_up=True))
    context = {
        "form": form,
        "qr_svg": two_factor.qr_svg(device),
        "secret": two_factor.base32_secret(device),
        "next": _next_url(request),
        "required": two_factor.required_for(user),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=400 if form.errors else 200)


def _security_page(request, token_form, status=200):
    context = {
        "has_device": two_factor.has_device(request.user),
        "tokens": request.user.api_tokens.filter(revoked_at__isnull=True),
        "token_form": token_form,
    }
    return render(request, "accounts/security.html", context, status=status)


@login_required
def security(request):
    return _security_page(request, TokenForm())


@login_required
def contact_details(request):
    """A person's own "how and when to reach me", shown to the members they support."""
    form = ContactDetailsForm(request.POST or None, initial={"contact_details": request.user.contact_details})
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_contact_details(request.user, form.cleaned_data["contact_details"])
            messages.success(request, _("Saved. The members you support see this on their care network page."))
            return redirect("accounts:contact_details")
        except ValidationError as error:
            add_domain_errors(form, error)
    return render(request, "accounts/contact_details.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_POST
def new_token(request):
    """Make a personal access token from the account page; the token is shown once, here."""
    form = TokenForm(request.POST)
    if not form.is_valid():
        return _security_page(request, form, status=400)
    token, raw = tokens.issue(
        request.user, name=form.cleaned_data["name"], scopes=form.cleaned_data["scopes"], request=request
    )
    return render(request, "accounts/new_token.html", {"token": token, "raw": raw})


@login_required
@require_POST
def revoke_token(request, token_pk):
    token = get_object_or_404(ApiToken, pk=token_pk, user=request.user, revoked_at__isnull=True)
    tokens.revoke(token, by=request.user, request=request)
    messages.success(request, _("Token %(name)s revoked: it no longer works.") % {"name": token.name})
    return redirect("accounts:security")


@login_required
@require_POST
def new_recovery_codes(request):
    if not request.user.is_verified():
        return redirect("accounts:two_factor")
    codes = two_factor.new_recovery_codes(request.user)
    record(AuditAction.TWO_FACTOR, request=request, detail="new recovery codes")
    return render(request, "accounts/recovery_codes.html", {"codes": codes, "next": reverse_lazy("accounts:security")})


def sign_out_everywhere(user, request=None) -> None:
    """End every session of this person, on every device."""
    actions.end_all_sessions(user)
    record(AuditAction.SIGN_OUT_EVERYWHERE, actor=user, request=request)


@login_required
@require_POST
def sign_out_everywhere_view(request):
    sign_out_everywhere(request.user, request)
    logout(request)
    messages.success(request, _("You are signed out on every device."))
    return redirect(settings.LOGIN_URL)


class PasswordResetView(auth_views.PasswordResetView):
    """Sends a one-time link. Answers the same whether or not the address has an account, and is rate
    limited per address and per client so it cannot be used to flood someone's inbox."""

    template_name = "accounts/password_reset.html"
    email_template_name = "accounts/email/password_reset.txt"
    html_email_template_name = "accounts/email/password_reset.html"
    subject_template_name = "accounts/email/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_sent")

    def form_valid(self, form):
        email = form.cleaned_data["email"]
        within_limits = ratelimit.hit("reset-ip", client_ip(self.request) or "?", limit=10, per_seconds=3600)
        within_limits &= ratelimit.hit("reset-email", email, limit=3, per_seconds=3600)
        if not within_limits:
            form.add_error(None, _("Too many reset requests. Wait an hour, or ask your organisation for help."))
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "accounts/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        record(AuditAction.PASSWORD_RESET, actor=form.user, request=self.request)
        return response


def accept_invitation(request, token):
    """The page an invitation link opens: choose a name and password, or accept while signed in."""
    if not ratelimit.hit("invitation-link", client_ip(request) or "?", limit=60, per_seconds=3600):
        return render(
            request, "accounts/invitation_problem.html", {"problem": _("Too many attempts. Try later.")}, status=429
        )
    try:
        invitation = invitations.find(token)
    except invitations.InvitationProblem as problem:
        return render(request, "accounts/invitation_problem.html", {"problem": problem}, status=problem.status)
    existing_account = User.objects.filter(email=invitation.email).exists()
    form = None if existing_account else AcceptInvitationForm(request.POST or None)
    if request.method == "POST":
        try:
            if existing_account:
                if not request.user.is_authenticated:
                    return redirect(f"{reverse('accounts:login')}?next={request.path}")
                user = invitations.accept(token, user=request.user, request=request)
            elif form.is_valid():
                user = invitations.accept(
                    token,
                    display_name=form.cleaned_data["display_name"],
                    password=form.cleaned_data["password1"],
                    request=request,
                )
                login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            else:
                user = None
        except invitations.InvitationProblem as problem:
            return render(request, "accounts/invitation_problem.html", {"problem": problem}, status=problem.status)
        except ValidationError as error:
            form.add_error("password1" if not hasattr(error, "error_dict") else None, error)
            user = None
        if user is not None:
            messages.success(request, _("Welcome to %(org)s.") % {"org": invitation.organisation.name})
            return redirect("web:home")
    context = {"invitation": invitation, "form": form, "existing_account": existing_account}
    return render(request, "accounts/accept_invitation.html", context, status=400 if form and form.errors else 200)


@login_required
def time_zone(request):
    """A person sets the time zone they live in (after a move, say)."""
    form = TimeZoneForm(request.POST or None, initial={"time_zone": request.user.time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            actions.set_time_zone(request.user, form.cleaned_data["time_zone"])
        except ValidationError as error:
            add_domain_errors(form, error)
        else:
            messages.success(request, _("Saved. Times are now shown in %(zone)s.") % {"zone": request.user.time_zone})
            return redirect("accounts:security")
    return render(request, "accounts/time_zone.html", {"form": form})
