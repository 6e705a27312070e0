"""Monthly partitions of the usage events table on PostgreSQL (a no-op elsewhere).

A partition per calendar month (UTC) of `occurred_at`, named
`licensing_usageevent_yYYYYmMM`. There is no DEFAULT partition: rows landing in one
would have to be moved out before the month's own partition could be attached, and
a month read would then touch it too. Instead every writer makes sure the months it
writes exist first (`usage_partitions_ensure`), and a beat job makes the next months
ahead of time, so ingest normally finds them made.

Making a partition takes a strong lock on the parent table for a moment, so it is
done in a short transaction of its own before the ingest's transaction, never inside
it, and under an advisory lock so two processes making the same month wait for each
other instead of failing (`CREATE TABLE IF NOT EXISTS` alone races on the catalogue).
The months known to exist are remembered per process, so the check costs nothing on
the hot path after the first batch of a month.

This is the part of django-postgres-extra's partitioning manager Accord needs (a
time strategy, monthly, N ahead), without its custom database backend.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import connection, transaction
from django.utils import timezone

from licensing.models.usage import UsageEvent
from licensing.periods import period_bounds, period_next, period_of

PARTITIONS_AHEAD_MONTHS = 3
# An arbitrary constant: the advisory lock that serializes partition creation.
_PARTITION_LOCK_KEY = 0x55_53_41_47_45  # "USAGE"
_known_partitions: set[str] = set()


def partition_name(period: str) -> str:
    return f"{UsageEvent._meta.db_table}_y{period[:4]}m{period[5:7]}"


def _partition_create(period: str) -> None:
    start, end = period_bounds(period)
    parent = connection.ops.quote_name(UsageEvent._meta.db_table)
    name = connection.ops.quote_name(partition_name(period))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PARTITION_LOCK_KEY])
        cursor.execute("SELECT to_regclass(%s)", [partition_name(period)])
        if cursor.fetchone()[0] is None:
            # DDL takes no bound parameters; the bounds are made here from integers.
            cursor.execute(
                f"CREATE TABLE {name} PARTITION OF {parent}"
                f" FOR VALUES FROM ('{start.isoformat()}') TO ('{end.isoformat()}')"
            )


def usage_partitions_ensure(*, periods: Iterable[str]) -> list[str]:
    """Make sure each period has its partition; return the ones made now.

    Call it outside the transaction that writes the events (inside one, as in a test,
    it still works, holding the parent's lock until that transaction ends).
    """
    if connection.vendor != "postgresql":
        return []
    missing = sorted(set(periods) - _known_partitions)
    if not missing:
        return []
    made: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = %s::regclass",
            [UsageEvent._meta.db_table],
        )
        existing = {row[0] for row in cursor.fetchall()}
    for period in missing:
        if partition_name(period) not in existing:
            with transaction.atomic():
                _partition_create(period)
            made.append(period)
        if not connection.in_atomic_block:
            # Inside an outer transaction the partition may still be rolled back.
            _known_partitions.add(period)
    return made


def usage_partitions_ahead(*, at: dt.datetime | None = None) -> list[str]:
    """Make this month's partition and the next `PARTITIONS_AHEAD_MONTHS` (beat job)."""
    period = period_of(at or timezone.now())
    periods = [period]
    for _ in range(PARTITIONS_AHEAD_MONTHS):
        period = period_next(period)
        periods.append(period)
    return usage_partitions_ensure(periods=periods)


def usage_partitions_forget() -> None:
    """Forget which partitions exist (tests that drop them, a restored database)."""
    _known_partitions.clear()
