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

# On SQLite, Django's test database would live in memory, and the live server that browser journeys talk to
# would then share the test's single connection between all its request threads. A browser sends requests in
# parallel (pages, htmx fragments, the service worker), and interleaved transactions on one connection fail at
# random ("no such savepoint", "database table is locked"). A file gives each thread its own connection, as in
# production.
if DATABASES["default"]["ENGINE"] == "alongside.core.sqlite":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": os.path.join(os.environ["ALONGSIDE_DATA_DIR"], "test.sqlite3")}  # noqa: F405
