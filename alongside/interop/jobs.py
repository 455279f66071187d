"""The interop app's work in the worker: erasing deleted accounts' kept clinical records once their program's
retention has ended (running it twice, or in two workers, erases nothing twice), and removing uploads previewed
on the web but never imported."""

from __future__ import annotations

from datetime import timedelta

from alongside.core.worker import every
from alongside.interop import imports, rights


@every(timedelta(hours=1), "interop: purge deleted accounts whose retention ended")
def purge_deleted_accounts() -> int:
    return rights.purge_due()


@every(timedelta(hours=1), "interop: remove stale import uploads")
def remove_stale_uploads() -> int:
    return imports.remove_stale_uploads()
