"""Closing a month's usage and writing into it, kept apart by a lock per month.

Ingest and corrections read whether a month is closed and then write as if it were
open or closed; a close that commits in between would strand what they write in a
month whose run has already read it. So writers hold a shared advisory lock on each
month they write, and the close holds it exclusively: a writer either commits before
the close (and the run, which reads after the close, sees it) or reads the month
closed (and books what it writes into the next open month). SQLite runs one writer at
a time, so it needs no lock.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection

LOCK_PREFIX = "accord-usage-period:"


def usage_periods_lock(*, periods: Iterable[str], exclusive: bool = False) -> None:
    """Hold the months' locks until the caller's transaction ends (sorted: no deadlock)."""
    assert connection.in_atomic_block, "the lock lasts as long as a transaction"
    if connection.vendor != "postgresql":
        return
    function = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        for period in sorted(set(periods)):
            cursor.execute(f"SELECT {function}(hashtext(%s))", [LOCK_PREFIX + period])
