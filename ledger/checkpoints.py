"""Balance checkpoints: what keeps balance reads fast at any size and any time.

An account's balance as of a time T is the last checkpoint at or before T plus the
entries stamped after it up to T, summed from the covering index
`ledger_entry_account_time`. Postings never update a balance row, so a hot account
costs no lock; this job does the summing later, in the background, in bulk.

Each run settles a horizon H (`ledger.horizon`): nothing stamped at or before H can
still appear. It then adds, for every account that has entries in (H_prev, H], a
checkpoint at H, plus one every `CHECKPOINT_ENTRIES_EVERY` entries inside the window,
so that an as-of read in the middle of a busy stretch never sums more than that many
entries. Because a checkpoint only ever covers settled entries, it is never wrong
and never updated; `ledger_verify` recomputes them all anyway.

Which accounts to look at: a transaction stamped after H_prev has an id above the
horizon id of the run before the previous one (it was allocated after that run had
settled), so the entries with those transaction ids name every such account, found
through the entry's transaction index.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection, transaction
from django.db.models import OuterRef, Subquery
from django.utils.dateparse import parse_datetime

from ledger.horizon import CHECKPOINT_LOCK_KEY, WAIT_SECONDS_MAX, horizon_settle, job_lock_try
from ledger.models import Account, BalanceCheckpoint, CheckpointRun

CHECKPOINT_ENTRIES_EVERY = 2_000
ACCOUNTS_PER_QUERY_MAX = 500
# The lower bound of the first window: before any entry.
BEGINNING = datetime(2000, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class CheckpointSummary:
    accounts: int = 0
    checkpoints: int = 0
    horizon_at: datetime | None = None
    skipped: str = ""

    def __str__(self) -> str:
        if self.skipped:
            return f"checkpoints: none written ({self.skipped})"
        return f"checkpoints: {self.checkpoints} for {self.accounts} accounts"


def _as_datetime(value: datetime | str) -> datetime:
    # SQLite hands raw-SQL timestamps back as text, naive UTC.
    if isinstance(value, str):
        value = parse_datetime(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _touched_account_ids(after_transaction_id: int, last_transaction_id: int) -> list[int]:
    # A closed range: an open "transaction_id > x" can be planned (e.g. before
    # autovacuum has analysed the table) as a scan of every entry ever written.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT account_id FROM ledger_entry"
            " WHERE transaction_id > %s AND transaction_id <= %s ORDER BY 1",
            [after_transaction_id, last_transaction_id],
        )
        return [row[0] for row in cursor.fetchall()]


_WINDOW_SQL = """
WITH per_time AS (
    SELECT account_id, created_at, SUM(amount_micros) AS amount_micros, COUNT(*) AS entry_count
      FROM ledger_entry
     WHERE account_id IN ({placeholders}) AND created_at > %s AND created_at <= %s
     GROUP BY account_id, created_at
), running AS (
    SELECT account_id, created_at, entry_count,
           CAST(SUM(amount_micros) OVER w AS BIGINT) AS running_micros,
           CAST(SUM(entry_count) OVER w AS BIGINT) AS running_count,
           ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY created_at DESC) AS from_end
      FROM per_time
    WINDOW w AS (PARTITION BY account_id ORDER BY created_at ROWS UNBOUNDED PRECEDING)
)
SELECT account_id, created_at, running_micros, running_count, from_end
  FROM running
 WHERE from_end = 1 OR (running_count - entry_count) / %s < running_count / %s
 ORDER BY account_id, created_at
"""


def _latest_checkpoints(account_ids: list[int]) -> dict[int, tuple[int, int]]:
    """Return (balance, entry count) of each account's newest checkpoint, in one query.

    A correlated LIMIT 1 per account walks the (account, as_of) index backwards from
    the newest entry, however many checkpoints the account has collected.
    """
    newest = BalanceCheckpoint.objects.filter(account_id=OuterRef("pk")).order_by("-as_of")
    rows = (
        Account.objects.filter(pk__in=account_ids)
        .annotate(
            newest_balance=Subquery(newest.values("balance_micros")[:1]),
            newest_count=Subquery(newest.values("entry_count")[:1]),
        )
        .filter(newest_count__isnull=False)
        .values_list("pk", "newest_balance", "newest_count")
    )
    return {account_id: (balance, count) for account_id, balance, count in rows}


def _window_checkpoints(
    account_ids: list[int], since: datetime, horizon_at: datetime, every: int
) -> list[BalanceCheckpoint]:
    """Build the checkpoints of (since, horizon_at] for these accounts, in one query."""
    base = _latest_checkpoints(account_ids)
    adapt = connection.ops.adapt_datetimefield_value
    sql = _WINDOW_SQL.format(placeholders=", ".join(["%s"] * len(account_ids)))
    with connection.cursor() as cursor:
        cursor.execute(sql, [*account_ids, adapt(since), adapt(horizon_at), every, every])
        rows = cursor.fetchall()
    made = []
    for account_id, created_at, running_micros, running_count, from_end in rows:
        balance, count = base.get(account_id, (0, 0))
        at = _as_datetime(created_at)
        if from_end == 1 or at == horizon_at:
            # The window's last checkpoint sits at the horizon itself, so a read of
            # "now" starts from it and sums only what was posted since.
            at = horizon_at
        made.append(
            BalanceCheckpoint(
                account_id=account_id,
                as_of=at,
                balance_micros=balance + running_micros,
                entry_count=count + running_count,
            )
        )
    # A crossing on the window's last timestamp would duplicate the horizon's checkpoint.
    unique = {(checkpoint.account_id, checkpoint.as_of): checkpoint for checkpoint in made}
    return list(unique.values())


def balance_checkpoints_write(
    *,
    entries_every: int = CHECKPOINT_ENTRIES_EVERY,
    wait_seconds_max: float = WAIT_SECONDS_MAX,
) -> CheckpointSummary:
    """Checkpoint every account that moved since the last run, up to the settled horizon."""
    assert entries_every > 0
    with transaction.atomic():
        if not job_lock_try(CHECKPOINT_LOCK_KEY):
            return CheckpointSummary(skipped="another run is in progress")
        horizon = horizon_settle(wait_seconds_max=wait_seconds_max)
        if horizon is None:
            return CheckpointSummary(skipped="postings in flight outlasted the wait")
        runs = list(CheckpointRun.objects.order_by("-id")[:2])
        previous = runs[0] if runs else None
        if previous is not None and previous.last_transaction_id == horizon.last_transaction_id:
            return CheckpointSummary(skipped="nothing posted since the last run")
        floor = runs[1].last_transaction_id if len(runs) == 2 else 0
        since = previous.horizon_at if previous is not None else BEGINNING
        account_ids = _touched_account_ids(floor, horizon.last_transaction_id)
        written = 0
        moved: set[int] = set()
        for start in range(0, len(account_ids), ACCOUNTS_PER_QUERY_MAX):
            chunk = account_ids[start : start + ACCOUNTS_PER_QUERY_MAX]
            made = _window_checkpoints(chunk, since, horizon.settled_at, entries_every)
            BalanceCheckpoint.objects.bulk_create(made, batch_size=1_000)
            written += len(made)
            moved.update(checkpoint.account_id for checkpoint in made)
        CheckpointRun.objects.create(
            horizon_at=horizon.settled_at, last_transaction_id=horizon.last_transaction_id
        )
    return CheckpointSummary(
        accounts=len(moved), checkpoints=written, horizon_at=horizon.settled_at
    )
