"""Two-factor sign-in (TOTP apps such as Aegis, Google Authenticator or 1Password) with recovery codes.

Every staff role and every platform operator must use it; members may. Devices come from django-otp, which
also throttles wrong codes per device.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

import segno
from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext
from django_otp import devices_for_user, user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from alongside.audit.log import record
from alongside.audit.models import AuditAction

RECOVERY_CODE_COUNT = 10
RECOVERY_DEVICE_NAME = "recovery codes"


def required_for(user) -> bool:
    return bool(user.is_authenticated and (user.is_care_staff or user.is_staff or user.is_superuser))


def has_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def pending_device(user) -> TOTPDevice:
    """The unconfirmed authenticator being set up, created on first call; its secret is shown until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    return device or TOTPDevice.objects.create(user=user, name="authenticator app", confirmed=False)


def base32_secret(device: TOTPDevice) -> str:
    return base64.b32encode(device.bin_key).decode().rstrip("=")


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an inline SVG QR code (rendered here; nothing leaves the server)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, dark="#1d2433", light="#ffffff")


@transaction.atomic
def confirm_device(user, device: TOTPDevice, code: str, request=None) -> list[str] | None:
    """Confirm a new authenticator with a code from it. Returns fresh recovery codes, or None if the code is
    wrong. Older authenticators are removed: one phone at a time."""
    if device.user_id != user.pk or device.confirmed or not device.verify_token(_digits(code)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    codes = new_recovery_codes(user)
    record(AuditAction.TWO_FACTOR, actor=user, request=request, detail="authenticator app set up")
    return codes


@transaction.atomic
def new_recovery_codes(user) -> list[str]:
    """Replace the person's recovery codes; each works once. Shown to them once, stored as django-otp tokens."""
    device, _created = StaticDevice.objects.get_or_create(user=user, name=RECOVERY_DEVICE_NAME)
    device.token_set.all().delete()
    codes = [f"{secrets.randbelow(10**10):010d}" for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def verify(user, code: str):
    """The device that accepts the code (authenticator or an unused recovery code), or None."""
    cleaned = _digits(code)
    if not cleaned:
        return None
    # django-otp locks the devices (SELECT ... FOR UPDATE) as it lists them, so the listing belongs inside the
    # transaction too: PostgreSQL refuses a locking read outside one (SQLite has no such lock to refuse).
    with transaction.atomic():
        for device in devices_for_user(user, confirmed=True, for_verify=True):
            if device.verify_token(cleaned):
                return device
    return None


def refusal_message(user, *, setting_up: bool = False) -> str:
    """Why a code was refused: wrong, or too many wrong codes in a row (django-otp then waits, doubling)."""
    throttled = [
        d for d in TOTPDevice.objects.filter(user=user, confirmed=not setting_up) if not d.verify_is_allowed()[0]
    ]
    if any(device.throttling_failure_count >= 3 for device in throttled):
        return gettext("Too many wrong codes. Wait a minute, then type the newest code.")
    if throttled:
        return gettext("That code did not work. Wait a few seconds, then type the newest code.")
    if setting_up:
        return gettext("That code did not match. Check the app shows Alongside and try the newest code.")
    return gettext("That code did not work. Codes change every 30 seconds; try the newest one.")


def _digits(code: str) -> str:
    return "".join(character for character in str(code or "") if character.isdigit())


# Demo accounts get a fixed authenticator so that anyone can try every role (see `alongside totp`).


def demo_key_hex(email: str) -> str:
    return hashlib.sha256(f"alongside demo totp {email.lower()}".encode()).hexdigest()[:40]


def give_demo_device(user) -> TOTPDevice:
    if not settings.DEMO_MODE:
        raise PermissionError("demo authenticators exist only in demo mode")
    device, _created = TOTPDevice.objects.update_or_create(
        user=user, name="demo authenticator", defaults={"key": demo_key_hex(user.email), "confirmed": True}
    )
    return device


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"
