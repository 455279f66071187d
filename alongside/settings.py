"""Django settings, read from ALONGSIDE_* environment variables (see the configuration table in README.md).

Three modes: production (the default; every secret must be given), demo (`alongside demo`: generated secret
key, demo-only commands) and development (ALONGSIDE_DEBUG=1).
"""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _

from alongside import conf
from alongside.core.crisis import COUNTRIES

DEBUG = conf.env_bool("DEBUG", False)
DEMO_MODE = conf.env_bool("DEMO", False)
PRODUCTION = not (DEBUG or DEMO_MODE)

DATA_DIR = conf.data_dir()
SECRET_KEY = conf.secret_key(DATA_DIR, generate=not PRODUCTION)
# Journal text and clinical notes are encrypted with these (see alongside/core/crypto.py).
ENCRYPTION_KEYS = conf.encryption_keys(DATA_DIR, generate=not PRODUCTION)

ALLOWED_HOSTS = conf.env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = conf.env_list("CSRF_TRUSTED_ORIGINS", [])
# Public address used in e-mails and calendar feeds.
SITE_URL = conf.env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "ninja",
    "alongside.core",
    "alongside.accounts",
    "alongside.audit",
    "alongside.programs",
    "alongside.care",
    "alongside.monitoring",
    "alongside.schedule",
    "alongside.notify",
    "alongside.signals",
    "alongside.groups",
    "alongside.goals",
    "alongside.interop",
    "alongside.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Counts and times what Django answers (static files, served just before, are not counted).
    "alongside.core.metrics.RequestMetricsMiddleware",
    # A phone's API request with a token (no session cookie) leaves here for BEARER_API_MIDDLEWARE.
    "alongside.core.api_requests.BearerApiMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "alongside.accounts.middleware.StaffTwoFactorMiddleware",
    "alongside.accounts.middleware.PersonTimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "alongside.core.csp.CSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: it turns a lockout raised during sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

# The rest of the way for a request to the JSON API with a personal access token and no session cookie
# (alongside/core/api_requests.py says why): language, framing and content-security headers.
BEARER_API_MIDDLEWARE = [
    "alongside.core.api_requests.AnonymousUntilTokenMiddleware",
    "alongside.core.api_requests.ApiLocaleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "alongside.core.csp.CSPMiddleware",
]

ROOT_URLCONF = "alongside.urls"
WSGI_APPLICATION = "alongside.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "alongside.web.context_processors.navigation",
                "alongside.notify.context_processors.unread_inbox",
            ],
        },
    },
]

DATABASES = {"default": conf.database_settings(DATA_DIR)}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "accounts:login"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Sign-in lockout (django-axes): after 5 failures for one address from one IP, wait 15 minutes.
AXES_FAILURE_LIMIT = conf.env_int("SIGNIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=conf.env_int("SIGNIN_LOCKOUT_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Counted per address as typed, lower-cased: "Sam@x" and "sam@x" are one account, so one counter.
AXES_USERNAME_CALLABLE = "alongside.accounts.forms.signin_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "alongside.audit.log.client_ip"  # the address the audit log records, too
AXES_VERBOSE = False

# Two-factor sign-in (django-otp). Staff must use it; see alongside/accounts/two_factor.py.
OTP_TOTP_ISSUER = conf.env_str("TOTP_ISSUER", "Alongside")
OTP_TOTP_THROTTLE_FACTOR = 1

# Password-reset links work once and for two hours.
PASSWORD_RESET_TIMEOUT = 2 * 60 * 60

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without collectstatic (demo, development) WhiteNoise serves straight from the installed package.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
WHITENOISE_MIMETYPES = {".webmanifest": "application/manifest+json"}

# Security headers. Sessions expire after two idle hours and at browser close; health data is on screen.
SESSION_COOKIE_AGE = conf.env_int("SESSION_IDLE_SECONDS", 2 * 60 * 60, minimum=300)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
HTTPS = conf.env_bool("HTTPS", PRODUCTION)
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_SSL_REDIRECT = HTTPS and conf.env_bool("SSL_REDIRECT", False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if conf.env_bool("BEHIND_PROXY", False) else None
SECURE_HSTS_SECONDS = 31536000 if HTTPS else 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# No inline script or style anywhere; every asset is served from this origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# Request bodies larger than this are refused (a journal entry is a few kilobytes).
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024

# Mail: printed to the console unless an SMTP host is configured.
# How long a worker's claim on a batch of deliveries lasts before another worker may take it over.
WORKER_LEASE_SECONDS = conf.env_int("WORKER_LEASE_SECONDS", 300, minimum=1)
EMAIL_HOST = conf.env_str("EMAIL_HOST")
EMAIL_PORT = conf.env_int("EMAIL_PORT", 587, minimum=1)
EMAIL_HOST_USER = conf.env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = conf.env_secret("EMAIL_HOST_PASSWORD") or ""
EMAIL_USE_TLS = conf.env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = conf.env_str("EMAIL_FROM", "Alongside <no-reply@localhost>")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend" if EMAIL_HOST else "django.core.mail.backends.console.EmailBackend"
)

# The country whose crisis lines the public /crisis page shows to visitors who are not signed in.
DEFAULT_COUNTRY = conf.env_str("DEFAULT_COUNTRY", "US").upper()
if DEFAULT_COUNTRY not in COUNTRIES:
    raise conf.ConfigError(
        f"ALONGSIDE_DEFAULT_COUNTRY={DEFAULT_COUNTRY!r} has no crisis-line defaults; use one of "
        + ", ".join(sorted(COUNTRIES))
    )

# The worker counts as alive while its last heartbeat is younger than this.
WORKER_STALE_SECONDS = conf.env_int("WORKER_STALE_SECONDS", 60, minimum=5)

# /metrics answers this machine without a token, and anyone else who sends it as a Bearer token.
METRICS_TOKEN = conf.metrics_token()

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": conf.env_str("LOG_LEVEL", "INFO").upper()},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
