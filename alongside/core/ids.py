"""Row ids that come from outside (API bodies, forms) before they reach a query."""

from __future__ import annotations

from collections.abc import Iterable

# Every table's key is a BigAutoField: a signed 64-bit integer on SQLite and PostgreSQL alike.
LARGEST_ID = 2**63 - 1


def storable(ids: Iterable[int]) -> set[int]:
    """The ids a row could have. Django turns an out-of-range `pk=` into "no such row" by itself, but SQLite
    refuses an out-of-range value inside `pk__in=` with OverflowError, so lists of ids pass through here first."""
    return {pk for pk in ids if 0 < pk <= LARGEST_ID}
