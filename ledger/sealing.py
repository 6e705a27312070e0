"""Sealing the books into a hash chain, and verifying it.

A block covers the transactions with ids in (after, last]: its content hash is the
SHA-256 over each transaction's digest in id order, a transaction's digest covering
every stored column of the transaction and of each of its entries (effective_at is
left out only where it equals created_at, so blocks sealed before it existed verify). The block hash
covers the block's header, its content hash and the previous block's hash, so
changing, adding or removing any sealed row, or any block, breaks every hash from
there on. `chain_verify` recomputes everything from the rows and names the first
block that does not match.

Blocks follow id order, but ids are allocated before commit, so id 7 may commit after
id 8. Sealing therefore only goes up to the settled horizon (`ledger.horizon`): every
id at or below it is final, and a range once sealed can never gain a transaction.
Posting never waits for sealing; only sealing is sequential (one run at a time).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction

from ledger.checkpoints import BEGINNING
from ledger.horizon import SEALING_LOCK_KEY, WAIT_SECONDS_MAX, horizon_settle, job_lock_try
from ledger.models import Entry, SealBlock, Transaction

GENESIS_HASH = "0" * 64
BLOCK_TRANSACTIONS_MAX = 5_000
BLOCKS_PER_RUN_MAX = 200
_READ_CHUNK = 2_000

# What a seal hashes, in this order: the chain's format, written out here rather than
# taken from ledger.inserts' column lists (the same names today), so that a column
# added to the posting statements cannot change the hash of blocks already sealed;
# a new column joins these lists with a fold like `_business_time_folded`.
_TRANSACTION_COLUMNS = (
    "id",
    "idempotency_key",
    "content_digest",
    "kind",
    "reference",
    "memo",
    "reverses_id",
    "created_at",
    "effective_at",
)
_ENTRY_COLUMNS = (
    "id",
    "transaction_id",
    "account_id",
    "amount_micros",
    "currency",
    "created_at",
    "effective_at",
)
# Both column lists end with (created_at, effective_at).
_CREATED_AT_FROM_END = -2


def _canonical(value: object) -> object:
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    raise TypeError(f"cannot seal a {type(value).__name__}")


def _business_time_folded(row: tuple) -> list[object]:
    """A row's values for its digest, the business time left out when it is the posting time.

    Blocks sealed before `effective_at` existed hashed rows without it; such rows
    have effective_at = created_at (migration 0003), so they hash exactly as then and
    the old blocks still verify. Any other business time is hashed, so changing it,
    to the posting time or from it, changes the digest: an auditor sees a moved date.
    """
    if row[-1] == row[_CREATED_AT_FROM_END]:
        return list(row[:-1])
    return list(row)


def _digest(record: list[object]) -> bytes:
    encoded = json.dumps(record, separators=(",", ":"), ensure_ascii=False, default=_canonical)
    return hashlib.sha256(encoded.encode()).digest()


@dataclass(frozen=True)
class RangeContent:
    content_hash: str
    transaction_count: int
    entry_count: int


def _rows(
    model: type, columns: tuple[str, ...], order: tuple[str, ...], **filters: int
) -> Iterator:
    rows = model.objects.filter(**filters).order_by(*order).values_list(*columns)
    return rows.iterator(chunk_size=_READ_CHUNK)


def range_content(after_transaction_id: int, last_transaction_id: int) -> RangeContent:
    """Hash the stored content of the transactions with ids in (after, last], in id order.

    Entries are merged in by transaction id; an entry whose transaction is missing is
    hashed on its own, so removing a transaction row cannot go unnoticed either.
    """
    bounds = {"gt": after_transaction_id, "lte": last_transaction_id}
    transactions = _rows(
        Transaction, _TRANSACTION_COLUMNS, ("id",), id__gt=bounds["gt"], id__lte=bounds["lte"]
    )
    entries = _rows(
        Entry,
        _ENTRY_COLUMNS,
        ("transaction_id", "id"),
        transaction_id__gt=bounds["gt"],
        transaction_id__lte=bounds["lte"],
    )
    hasher = hashlib.sha256()
    transaction_count = entry_count = 0
    pending = next(entries, None)
    for row in transactions:
        # Orphans first: entries of a transaction id below this one that has no row.
        while pending is not None and pending[1] < row[0]:
            hasher.update(_digest(["orphan", *_business_time_folded(pending)]))
            entry_count += 1
            pending = next(entries, None)
        legs = []
        while pending is not None and pending[1] == row[0]:
            legs.append(_business_time_folded(pending))
            pending = next(entries, None)
        hasher.update(_digest([*_business_time_folded(row), legs]))
        transaction_count += 1
        entry_count += len(legs)
    while pending is not None:
        hasher.update(_digest(["orphan", *_business_time_folded(pending)]))
        entry_count += 1
        pending = next(entries, None)
    return RangeContent(hasher.hexdigest(), transaction_count, entry_count)


def block_hash_compute(
    *, number: int, after_transaction_id: int, last_transaction_id: int, content: RangeContent,
    previous_hash: str,
) -> str:  # fmt: skip
    header = [
        number,
        after_transaction_id,
        last_transaction_id,
        content.transaction_count,
        content.entry_count,
        content.content_hash,
        previous_hash,
    ]
    return hashlib.sha256(json.dumps(header, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class SealRunSummary:
    blocks: int = 0
    transactions: int = 0
    last_transaction_id: int | None = None
    skipped: str = ""

    def __str__(self) -> str:
        if self.skipped:
            return f"sealing: no block sealed ({self.skipped})"
        return f"sealing: {self.blocks} blocks, {self.transactions} transactions"


def _block_end(after: int, horizon_id: int) -> int:
    """Return the last id of the next block: BLOCK_TRANSACTIONS_MAX in, or the horizon."""
    ids = (
        Transaction.objects.filter(id__gt=after, id__lte=horizon_id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    nth = list(ids[BLOCK_TRANSACTIONS_MAX - 1 : BLOCK_TRANSACTIONS_MAX])
    return nth[0] if nth else horizon_id


def blocks_seal(*, wait_seconds_max: float = WAIT_SECONDS_MAX) -> SealRunSummary:
    """Seal the final transactions after the last block into new blocks, in id order."""
    with transaction.atomic():
        if not job_lock_try(SEALING_LOCK_KEY):
            return SealRunSummary(skipped="another run is in progress")
        horizon = horizon_settle(wait_seconds_max=wait_seconds_max)
        if horizon is None:
            return SealRunSummary(skipped="postings in flight outlasted the wait")
        last_block = SealBlock.objects.order_by("-number").first()
        after = last_block.last_transaction_id if last_block else 0
        previous_hash = last_block.block_hash if last_block else GENESIS_HASH
        number = last_block.number if last_block else 0
        sealed: list[SealBlock] = []
        while after < horizon.last_transaction_id and len(sealed) < BLOCKS_PER_RUN_MAX:
            last = _block_end(after, horizon.last_transaction_id)
            content = range_content(after, last)
            if content.transaction_count == 0:
                break  # only rolled-back ids so far; a later block will span them
            number += 1
            block = SealBlock.objects.create(
                number=number,
                after_transaction_id=after,
                last_transaction_id=last,
                transaction_count=content.transaction_count,
                entry_count=content.entry_count,
                content_hash=content.content_hash,
                previous_hash=previous_hash,
                block_hash=block_hash_compute(
                    number=number,
                    after_transaction_id=after,
                    last_transaction_id=last,
                    content=content,
                    previous_hash=previous_hash,
                ),
            )
            sealed.append(block)
            previous_hash, after = block.block_hash, last
    return SealRunSummary(
        blocks=len(sealed),
        transactions=sum(block.transaction_count for block in sealed),
        last_transaction_id=after,
    )


@dataclass
class VerifyReport:
    """What `chain_verify` found; `ok` only when every check passed."""

    blocks_checked: int = 0
    transactions_sealed: int = 0
    transactions_unsealed: int = 0
    first_bad_block: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _block_problem(block: SealBlock, after: int, previous_hash: str, number: int) -> str | None:
    if block.number != number:
        return f"block {block.number}: expected block number {number}"
    if block.after_transaction_id != after:
        return f"{block}: does not start where the previous block ended ({after})"
    if block.previous_hash != previous_hash:
        return f"{block}: previous hash does not match block {number - 1}"
    content = range_content(block.after_transaction_id, block.last_transaction_id)
    stored = RangeContent(block.content_hash, block.transaction_count, block.entry_count)
    if content != stored:
        return (
            f"{block}: content does not match its seal (now {content.transaction_count} "
            f"transactions, {content.entry_count} entries, hash {content.content_hash[:16]}…; "
            f"sealed {stored.transaction_count}, {stored.entry_count}, "
            f"{stored.content_hash[:16]}…)"
        )
    recomputed = block_hash_compute(
        number=block.number,
        after_transaction_id=block.after_transaction_id,
        last_transaction_id=block.last_transaction_id,
        content=content,
        previous_hash=previous_hash,
    )
    if recomputed != block.block_hash:
        return f"{block}: block hash does not match its header"
    return None


def _chain_check(report: VerifyReport) -> int:
    """Walk the chain; record the first bad block. Return the last sealed id."""
    after, previous_hash, number = 0, GENESIS_HASH, 1
    for block in SealBlock.objects.order_by("number").iterator(chunk_size=500):
        problem = _block_problem(block, after, previous_hash, number)
        report.blocks_checked += 1
        if problem is not None:
            report.first_bad_block = block.number
            report.problems.insert(0, problem)
            return after
        report.transactions_sealed += block.transaction_count
        after, previous_hash, number = block.last_transaction_id, block.block_hash, number + 1
    return after


_UNBALANCED_SQL = """
SELECT transaction_id, currency, SUM(amount_micros) FROM ledger_entry
 GROUP BY transaction_id, currency HAVING SUM(amount_micros) <> 0
 ORDER BY transaction_id LIMIT 5
"""
_THIN_SQL = """
SELECT t.id, COUNT(e.id) FROM ledger_transaction t
  LEFT JOIN ledger_entry e ON e.transaction_id = t.id
 GROUP BY t.id HAVING COUNT(e.id) < 2 ORDER BY t.id LIMIT 5
"""
_CURRENCY_SQL = """
SELECT e.id, e.currency, a.id, a.currency FROM ledger_entry e
  LEFT JOIN ledger_account a ON a.id = e.account_id
 WHERE a.id IS NULL OR a.currency <> e.currency ORDER BY e.id LIMIT 5
"""
_BUSINESS_TIME_SQL = """
SELECT e.id, e.effective_at, t.id, t.effective_at FROM ledger_entry e
  JOIN ledger_transaction t ON t.id = e.transaction_id
 WHERE e.effective_at <> t.effective_at ORDER BY e.id LIMIT 5
"""
_CHECKPOINT_SQL = """
WITH ordered AS (
    SELECT account_id, as_of, balance_micros, entry_count,
           LAG(as_of) OVER w AS previous_as_of,
           LAG(balance_micros) OVER w AS previous_balance,
           LAG(entry_count) OVER w AS previous_count
      FROM ledger_balancecheckpoint
    WINDOW w AS (PARTITION BY account_id ORDER BY as_of)
), compared AS (
    SELECT account_id, as_of,
           balance_micros - COALESCE(previous_balance, 0) AS stated_micros,
           entry_count - COALESCE(previous_count, 0) AS stated_count,
           (SELECT COALESCE(SUM(e.amount_micros), 0) FROM ledger_entry e
             WHERE e.account_id = ordered.account_id
               AND e.created_at > COALESCE(ordered.previous_as_of, %s)
               AND e.created_at <= ordered.as_of) AS actual_micros,
           (SELECT COUNT(*) FROM ledger_entry e
             WHERE e.account_id = ordered.account_id
               AND e.created_at > COALESCE(ordered.previous_as_of, %s)
               AND e.created_at <= ordered.as_of) AS actual_count
      FROM ordered
)
SELECT account_id, as_of FROM compared
 WHERE stated_micros <> actual_micros OR stated_count <> actual_count
 ORDER BY account_id, as_of LIMIT 5
"""


def _rules_check(report: VerifyReport) -> None:
    """Check the invariants the triggers keep, in case the triggers were bypassed."""
    beginning = connection.ops.adapt_datetimefield_value(BEGINNING)
    checks = [
        (_UNBALANCED_SQL, [], "transaction {0} does not balance in {1} (off by {2} micros)"),
        (_THIN_SQL, [], "transaction {0} has {1} entries"),
        (_CURRENCY_SQL, [], "entry {0} in {1} is on account {2} in {3}"),
        (
            _BUSINESS_TIME_SQL,
            [],
            "entry {0} is effective at {1}, its transaction {2} at {3}",
        ),
        (_CHECKPOINT_SQL, [beginning, beginning], "checkpoint of account {0} at {1} is wrong"),
    ]
    with connection.cursor() as cursor:
        for sql, params, message in checks:
            cursor.execute(sql, params)
            report.problems.extend(message.format(*row) for row in cursor.fetchall())


def chain_verify() -> VerifyReport:
    """Recompute the seal chain and the ledger's invariants from the stored rows."""
    report = VerifyReport()
    last_sealed_id = _chain_check(report)
    _rules_check(report)
    report.transactions_unsealed = Transaction.objects.filter(id__gt=last_sealed_id).count()
    return report
