"""The settled horizon: how far back the books can no longer change.

Sealing and balance checkpoints may only cover transactions that are final: a
transaction that is still being written must never appear later inside a range
already sealed, or below a checkpoint already summed. Under concurrent posting, ids
and commit order disagree (id 7 can commit after id 8), so "the highest id I can
see" is not a safe horizon. This module finds one without making postings wait.

PostgreSQL. Migration 0002 makes every posting take a *shared* advisory lock
(`POSTING_LOCK_KEY`) before it allocates a transaction id, held until it commits or
rolls back; shared locks never conflict, so postings do not wait on each other. The
settling reader then

1. reads the clock: `settled_at`;
2. reads the id sequence: `last_transaction_id`, the highest id handed out so far;
3. lists who holds the shared lock now, and waits (bounded) until they are all gone.

Every id at or below `last_transaction_id` was allocated before step 2 by a
transaction that took the lock before allocating; if it was still running at step 3
it was listed and has now ended. So every such id is final: committed and visible,
or rolled back for good. The database stamps `created_at` after allocating the id,
so a transaction stamped at or before `settled_at` allocated its id before step 2:
it is final too, and its id is at most `last_transaction_id`. The reader never takes
the lock itself, so postings never wait for it either.

SQLite. There is one writer at a time. The reader takes the write lock (inside its
own transaction): no posting is half-written any more, and every later posting reads
the clock only after taking the lock in turn (see `ledger.posting`), so "now" and
the highest id are a safe horizon.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.utils import timezone

from ledger.inserts import write_lock_take

# The same key is frozen in migration 0002's ledger_transaction_id_next().
POSTING_LOCK_KEY = 0x4C45444745520001
SEALING_LOCK_KEY = 0x4C45444745520002
CHECKPOINT_LOCK_KEY = 0x4C45444745520003
WAIT_SECONDS_MAX = 5.0
_POLL_SECONDS_FIRST = 0.002
_POLL_SECONDS_MAX = 0.05


@dataclass(frozen=True)
class Horizon:
    """Every transaction with id <= `last_transaction_id` is final, and so is every
    transaction stamped at or before `settled_at` (whose id is then <= the former)."""

    last_transaction_id: int
    settled_at: datetime


def _advisory_lock_parts(key: int) -> tuple[int, int]:
    # pg_locks shows a bigint advisory key as two oids: high and low 32 bits.
    return key >> 32, key & 0xFFFFFFFF


_HOLDERS_SQL = """
SELECT virtualtransaction FROM pg_locks
 WHERE locktype = 'advisory'
   AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
   AND classid = %s AND objid = %s AND objsubid = 1
   AND pid <> pg_backend_pid()
"""


def _settle_postgresql(wait_seconds_max: float) -> Horizon | None:
    high, low = _advisory_lock_parts(POSTING_LOCK_KEY)
    with connection.cursor() as cursor:
        # One microsecond back: whatever is stamped at or before it was stamped
        # strictly before this read, even with a coarse clock.
        cursor.execute("SELECT clock_timestamp() - interval '1 microsecond'")
        (settled_at,) = cursor.fetchone()
        cursor.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
            " FROM ledger_transaction_id_seq"
        )
        (last_transaction_id,) = cursor.fetchone()
        cursor.execute(_HOLDERS_SQL, [high, low])
        holders = [row[0] for row in cursor.fetchall()]
        deadline = time.monotonic() + wait_seconds_max
        poll_seconds = _POLL_SECONDS_FIRST
        while holders:
            if time.monotonic() > deadline:
                return None
            time.sleep(poll_seconds)
            poll_seconds = min(poll_seconds * 2, _POLL_SECONDS_MAX)
            cursor.execute(_HOLDERS_SQL + " AND virtualtransaction = ANY(%s)", [high, low, holders])
            holders = [row[0] for row in cursor.fetchall()]
    return Horizon(last_transaction_id=last_transaction_id, settled_at=settled_at)


def _settle_single_writer() -> Horizon:
    with connection.cursor() as cursor:
        write_lock_take(cursor)
        settled_at = timezone.now() - timedelta(microseconds=1)
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM ledger_transaction")
        (last_transaction_id,) = cursor.fetchone()
    return Horizon(last_transaction_id=last_transaction_id, settled_at=settled_at)


def horizon_settle(*, wait_seconds_max: float = WAIT_SECONDS_MAX) -> Horizon | None:
    """Find the settled horizon now; None if in-flight postings outlasted the wait.

    Call it inside the transaction that will write what the horizon allows (on SQLite
    that transaction keeps the write lock until it commits).
    """
    assert connection.in_atomic_block, "settle the horizon inside transaction.atomic()"
    if connection.vendor == "postgresql":
        return _settle_postgresql(wait_seconds_max)
    return _settle_single_writer()


def job_lock_try(key: int) -> bool:
    """Let one run of a ledger job at a time proceed; False if another holds the key.

    Held until the surrounding transaction ends. SQLite's single write lock already
    serialises the jobs there.
    """
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [key])
        return bool(cursor.fetchone()[0])
