"""The interop app's work in the worker: uploads previewed on the web but never imported are removed."""

from __future__ import annotations

from datetime import timedelta

from alongside.core.worker import every
from alongside.interop import imports


@every(timedelta(hours=1), "interop: remove stale import uploads")
def remove_stale_uploads() -> int:
    return imports.remove_stale_uploads()
