from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from alongside.accounts.models import normalise_email


def signin_username(request, credentials) -> str | None:
    """The account a sign-in attempt is for, as the lockout counter keys it."""
    typed = (credentials or {}).get("username") or request.POST.get("username")
    return normalise_email(typed) if typed else None


class SignInForm(AuthenticationForm):
    username = forms.EmailField(
        label=_("E-mail address"),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "autofocus": True}),
    )

    error_messages = {
        "invalid_login": _("That e-mail address and password do not match an account. Check both and try again."),
        "inactive": _("This account has been closed. Ask your care team or organisation for help."),
    }


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=20,
        help_text=_("The 6-digit code from your authenticator app, or one of your recovery codes."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class EnrolForm(forms.Form):
    code = forms.CharField(
        label=_("Code from the app"),
        max_length=10,
        help_text=_("After adding Alongside to your authenticator app, type the 6-digit code it shows."),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mail address"))
    role = forms.ChoiceField(label=_("Role"))

    def __init__(self, *args, roles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(role.value, role.label) for role in roles]
        if len(roles) == 1:
            self.fields["role"].initial = roles[0].value


class AcceptInvitationForm(forms.Form):
    display_name = forms.CharField(
        label=_("Your name in Alongside"),
        max_length=80,
        help_text=_("Others see this name. It does not have to be your real name."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password1 = forms.CharField(
        label=_("Choose a password"),
        strip=False,
        help_text=_("At least 10 characters. A few unrelated words work well."),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    password2 = forms.CharField(
        label=_("Type the password again"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", _("The two passwords are not the same."))
        return cleaned


class OrganisationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.ChoiceField(label=_("Country"))
    time_zone = forms.CharField(label=_("Time zone"), max_length=64, help_text=_("For example America/New_York."))
    emergency_number = forms.CharField(label=_("Emergency number"), max_length=32)
    emergency_note = forms.CharField(
        label=_("Emergency note"),
        max_length=200,
        required=False,
        help_text=_("For example another number that also works."),
    )
    support_contact = forms.CharField(
        label=_("Support contact"),
        max_length=200,
        required=False,
        help_text=_("Where people ask for help with Alongside itself."),
    )
    use_country_defaults = forms.BooleanField(
        label=_("Replace the emergency number and crisis lines with the defaults for the chosen country"),
        required=False,
    )

    def __init__(self, *args, **kwargs):
        from alongside.core.crisis import country_choices

        super().__init__(*args, **kwargs)
        self.fields["country"].choices = country_choices()

    def clean_time_zone(self):
        from alongside.accounts.models import validate_time_zone

        value = self.cleaned_data["time_zone"].strip()
        validate_time_zone(value)
        return value


class CrisisLineForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120, required=False)
    phone = forms.CharField(label=_("Number to call"), max_length=32, required=False)
    text = forms.CharField(label=_("Number to text"), max_length=32, required=False)
    note = forms.CharField(label=_("When or for whom"), max_length=120, required=False)

    def clean(self):
        cleaned = super().clean()
        if any(cleaned.get(key) for key in ("phone", "text", "note")) and not cleaned.get("name"):
            self.add_error("name", _("Give this crisis line a name."))
        if cleaned.get("name") and not (cleaned.get("phone") or cleaned.get("text")):
            self.add_error("phone", _("A crisis line needs a number to call or to text."))
        return cleaned


CrisisLineFormSet = forms.formset_factory(CrisisLineForm, extra=2, max_num=10)


class TokenForm(forms.Form):
    name = forms.CharField(label=_("What is it for?"), max_length=80, help_text=_("For example “my phone”."))
    scopes = forms.MultipleChoiceField(
        label=_("It may"),
        choices=[("read", _("read my data")), ("write", _("add check-ins, journal entries and answers"))],
        initial=["read", "write"],
        widget=forms.CheckboxSelectMultiple,
    )


class ContactDetailsForm(forms.Form):
    contact_details = forms.CharField(
        label=_("How and when to reach me"),
        required=False,
        max_length=300,
        help_text=_(
            "The members you support see this on their care network page. For example: “Call or text 555 0101, "
            "weekdays 9 to 5; messages answered within a day.”"
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(
        label=_("My time zone"),
        help_text=_("Check-in days, reminders and appointment times follow it. Appointments keep their local time."),
    )

    def __init__(self, *args, **kwargs):
        from zoneinfo import available_timezones

        super().__init__(*args, **kwargs)
        zones = sorted(
            zone for zone in available_timezones() if "/" in zone and not zone.startswith(("Etc/", "SystemV/"))
        )
        self.fields["time_zone"].choices = [(zone, zone.replace("_", " ")) for zone in [*zones, "UTC"]]
