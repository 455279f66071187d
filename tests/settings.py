"""Settings for the test suite: the real settings, with a throwaway data dir and a fixed key.

ALONGSIDE_DATABASE_URL, when set (make test sets it for the PostgreSQL run), still chooses the database.
"""

import os
import tempfile

os.environ.setdefault("ALONGSIDE_DATA_DIR", tempfile.mkdtemp(prefix="alongside-test-"))
os.environ.setdefault("ALONGSIDE_SECRET_KEY", "test-secret-key-that-is-long-enough-for-django-0123456789")
os.environ.setdefault("ALONGSIDE_DEBUG", "1")
os.environ.setdefault("ALONGSIDE_HTTPS", "0")

from alongside.settings import *  # noqa: F403

# Argon2 is deliberately slow; tests that are about hashing ask for it explicitly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
