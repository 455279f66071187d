from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from alongside.accounts import two_factor

# Pages a signed-in person may reach before their second factor: setting it up, leaving, and help.
OPEN_BEFORE_SECOND_FACTOR = (
    "/accounts/two-factor/",
    "/accounts/signout/",
    "/crisis/",
    "/me/struggling/",
    "/static/",
    "/healthz",
)


class StaffTwoFactorMiddleware:
    """Staff and platform operators reach nothing else until they have passed their second factor."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = request.user
        if (
            user.is_authenticated
            and two_factor.required_for(user)
            and not user.is_verified()
            and not request.path.startswith(OPEN_BEFORE_SECOND_FACTOR)
        ):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": _("Two-factor sign-in is required.")}, status=403)
            return redirect(f"{reverse('accounts:two_factor')}?next={quote(request.get_full_path())}")
        return self.get_response(request)


class PersonTimeZoneMiddleware:
    """Pages show times on the signed-in person's own clock (their time zone), as Django's template filters
    convert to the active zone. Everything is stored in UTC; visitors see the site's zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        zone = getattr(user, "time_zone", "") if user is not None and user.is_authenticated else ""
        if zone:
            try:
                timezone.activate(ZoneInfo(zone))
            except (ValueError, ZoneInfoNotFoundError):
                timezone.deactivate()
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
