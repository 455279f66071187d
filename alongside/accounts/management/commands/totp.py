from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.accounts import two_factor
from alongside.accounts.models import User


class Command(BaseCommand):
    help = "Demo mode only: print the current two-factor code of a demo account."

    def add_arguments(self, parser):
        parser.add_argument("email")

    def handle(self, *args, email: str, **options):
        if not settings.DEMO_MODE:
            raise CommandError("`alongside totp` works only in demo mode (ALONGSIDE_DEMO=1, as `alongside demo` sets)")
        user = User.objects.filter(email__iexact=email.strip()).first()
        device = TOTPDevice.objects.filter(user=user, name="demo authenticator", confirmed=True).first()
        if device is None:
            raise CommandError(f"{email} has no demo authenticator; demo staff accounts do")
        self.stdout.write(two_factor.current_code(device))
