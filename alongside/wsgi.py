import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alongside.settings")

application = get_wsgi_application()


def _settle() -> None:
    """Load the URL map (and with it every view module) before the first request, then move everything loaded
    so far out of the garbage collector's reach. Otherwise each full collection walks all of Django, NumPy and
    matplotlib's objects: on the caseload page that was a pause of 70–110 ms about every fifteenth request
    (bench/caseload.py; p95 144 ms before, 82 ms after)."""
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 (imports the views)
    gc.collect()
    gc.freeze()


_settle()
