"""The Content-Security-Policy header, from django-csp's settings, built once.

django-csp's middleware builds the header text anew for every response. Alongside's policy is the same for
every response (no nonces, no view changes it), so it is built once and set as it is; a response that does ask
for something else (a nonce used, a view's own policy, an exemption) takes django-csp's own path. The text is
built again when the settings change (tests)."""

from __future__ import annotations

from functools import cache

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a response or request carries when its policy differs from the settings' (django-csp's names).
_RESPONSE_CHANGES = (
    "_csp_config", "_csp_update", "_csp_replace", "_csp_exempt",
    "_csp_config_ro", "_csp_update_ro", "_csp_replace_ro", "_csp_exempt_ro",
)  # fmt: skip


@cache
def _policy() -> str | None:
    """The header for a response the settings alone decide, or None when that is not simple (report-only
    policies and excluded paths are left to django-csp)."""
    if getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None):
        return None
    if (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get("EXCLUDE_URL_PREFIXES"):
        return None
    return build_policy()


@receiver(setting_changed)
def _settings_changed(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policy.cache_clear()


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request, response):
        policy = _policy()
        if (
            policy is None
            or settings.DEBUG
            or getattr(request, "_csp_nonce", None) is not None
            or any(hasattr(response, name) for name in _RESPONSE_CHANGES)
        ):
            return super().process_response(request, response)
        if HEADER not in response:
            response[HEADER] = policy
        # As django-csp does: a nonce asked for after the header is written is an error, not a silent gap.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
