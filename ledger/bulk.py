"""Posting large batches on PostgreSQL with COPY, preparing while the server inserts.

COPY is the fastest way into PostgreSQL, and the ledger's triggers fire for it as
for any INSERT (the id, time and xid stamp per row, the entry checks per statement,
the balance check at COMMIT). The work is pipelined over the machine's cores: each
posting is validated and its COPY line written as the next one is prepared, so the
server inserts chunk k while Python prepares chunk k+1.

COPY has no ON CONFLICT: when a key was posted before, the COPY fails on the unique
key and the caller rolls back to its savepoint and uses the INSERT statement, which
replays such keys. The database allocates the ids and stamps the times, so they are
read back (this database transaction's rows above the sequence value read before)
to give the entries their transaction id, created_at and effective_at (as text, so
the entries carry exactly what the transactions hold).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.utils import timezone

from ledger.inserts import (
    ENTRY_COLUMN_NAMES,
    TRANSACTION_COLUMN_NAMES,
    server_bound_cursor,
    transaction_row,
)
from ledger.models import Transaction
from ledger.posting import (
    Posting,
    PreparedPosting,
    first_of_its_key,
    posting_prepare_indexed,
)

# Below this, one INSERT statement is as fast and handles replays directly.
COPY_BATCH_SIZE_MIN = 64
# Postings per write to the COPY stream: small enough to overlap, big enough to batch.
_CHUNK = 250

_COPY_TRANSACTIONS = f"COPY ledger_transaction ({TRANSACTION_COLUMN_NAMES}) FROM STDIN"
_COPY_ENTRIES = f"COPY ledger_entry ({ENTRY_COLUMN_NAMES}) FROM STDIN"
# Bounded on both sides: planned for an open "id > $1" (or without statistics, as on
# a table autovacuum has not analysed yet) PostgreSQL assumes a third of the table
# and scans all of it, a cost that grows with the books (230 ms a batch at a
# million rows); a closed range is planned as an index range scan either way.
_STAMPED_SQL = (
    "SELECT id, idempotency_key, created_at, created_at::text, effective_at::text"
    " FROM ledger_transaction"
    " WHERE id BETWEEN %s AND %s AND xid = pg_current_xact_id()"
)
_NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _text(value: str) -> str:
    """Escape a text value for COPY's text format."""
    return value.translate(_ESCAPES)


def _time_text(value: datetime) -> str:
    """A UTC datetime in COPY's text format (ISO 8601 with its offset, which PostgreSQL reads)."""
    return value.isoformat()


def _transaction_line(posting: PreparedPosting, effective_at_text: str) -> str:
    reverses = _NULL if posting.reverses_id is None else str(posting.reverses_id)
    return (
        f"{_text(posting.idempotency_key)}\t{posting.content_digest}\t{_text(posting.kind)}\t"
        f"{_text(posting.reference)}\t{_text(posting.memo)}\t{reverses}\t{effective_at_text}\n"
    )


def _transactions_copy(
    cursor: object, postings: Sequence[Posting]
) -> tuple[list[PreparedPosting], dict[str, PreparedPosting]]:
    """Prepare and COPY the transactions; return all postings and the first of each key."""
    ordered: list[PreparedPosting] = []
    unique: dict[str, PreparedPosting] = {}
    lines: list[str] = []
    now = timezone.now()  # the business time of every posting that names none
    now_text = _time_text(now)
    # COPY goes around Django's cursor wrapper; wrap_database_errors turns psycopg's
    # errors into Django's (IntegrityError...), as for any other query.
    with connection.wrap_database_errors, cursor.copy(_COPY_TRANSACTIONS) as copy:
        for index, posting in enumerate(postings):
            # A LedgerError aborts the COPY.
            prepared = posting_prepare_indexed(posting, index, now=now)
            ordered.append(prepared)
            if first_of_its_key(unique, prepared):
                effective_at = prepared.effective_at
                text = now_text if effective_at is now else _time_text(effective_at)
                lines.append(_transaction_line(prepared, text))
            if len(lines) >= _CHUNK:
                copy.write("".join(lines))
                lines.clear()
        if lines:
            copy.write("".join(lines))
    return ordered, unique


def _entries_copy(
    cursor: object, unique: dict[str, PreparedPosting], stamped: dict[str, tuple]
) -> dict[str, Transaction]:
    """COPY every posting's entries with its transaction's id and time; build the rows."""
    rows: dict[str, Transaction] = {}
    lines: list[str] = []
    alias = connection.alias  # a lookup through the connection proxy costs, once is enough
    with connection.wrap_database_errors, cursor.copy(_COPY_ENTRIES) as copy:
        for key, prepared in unique.items():
            pk, created_at, times_text = stamped[key]
            rows[key] = transaction_row(prepared, pk, created_at, alias)
            lines.extend(
                f"{pk}\t{leg.account_id}\t{leg.amount_micros}\t{leg.currency}\t{times_text}\n"
                for leg in prepared.legs
            )
            if len(lines) >= _CHUNK * 3:
                copy.write("".join(lines))
                lines.clear()
        if lines:
            copy.write("".join(lines))
    return rows


def postings_copy(postings: Sequence[Posting]) -> list[Transaction]:
    """Validate and insert a batch of postings with new keys; return them in order.

    Raises LedgerError for an invalid posting (its details name the index) and
    IntegrityError on `ledger_transaction_key_unique` when a key exists already. Run
    it in a savepoint: either failure leaves the COPY half done.
    """
    assert connection.vendor == "postgresql"
    assert connection.in_atomic_block, "run it in a savepoint"
    with server_bound_cursor() as cursor:
        # The highest id handed out so far (last_value is the next one while is_called
        # is false, on a fresh sequence): every id this COPY gets is above it.
        cursor.execute(
            "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
            " FROM ledger_transaction_id_seq"
        )
        (id_before,) = cursor.fetchone()
        ordered, unique = _transactions_copy(cursor, postings)
        # Binary results: psycopg decodes them in C, noticeably faster for big batches.
        cursor.execute("SELECT currval('ledger_transaction_id_seq')")
        (id_last,) = cursor.fetchone()  # this session's last: every id this COPY got
        cursor.cursor.execute(_STAMPED_SQL, [id_before + 1, id_last], binary=True)
        # Entries copy both times as the database stored them, as text.
        stamped = {
            key: (pk, at, f"{at_text}\t{effective_text}")
            for pk, key, at, at_text, effective_text in cursor.fetchall()
        }
        assert len(stamped) == len(unique), (len(stamped), len(unique))
        rows = _entries_copy(cursor, unique, stamped)
    return [rows[posting.idempotency_key] for posting in ordered]
