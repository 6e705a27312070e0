"""The statements that write a checked posting's rows (`ledger.posting` checks them).

Posting is on the hot path of every sale, so the insert is written for the database
it runs on:

- PostgreSQL: one prepared statement per call. The transactions go in with
  `INSERT ... ON CONFLICT (idempotency_key) DO NOTHING` and their entries in a
  data-modifying CTE joined to what was actually inserted (scalar parameters for one
  posting of up to `SCALAR_LEGS_MAX` legs, arrays otherwise). A replayed key inserts
  nothing and costs no savepoint. Triggers do the stamping and the checking
  (migration 0002). Batches of 64 postings or more go through COPY instead
  (`ledger.bulk`).
- SQLite (the embedded default): the same rows, statement by statement. The write
  lock is taken before the clock is read, so `created_at` grows with commit order as
  it does on PostgreSQL; the horizon used by sealing and checkpoints relies on that.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Sequence

from django.db import IntegrityError, connection
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.db.models.base import ModelState
from django.utils import timezone

from ledger.errors import LedgerError, LedgerErrorCode
from ledger.models import Transaction
from ledger.posting import PreparedPosting

# Up to this many legs a single posting uses the scalar statement (one prepared plan
# per leg count, so the plan cache stays this small); beyond it the array statement.
SCALAR_LEGS_MAX = 100


def transaction_row(
    prepared: PreparedPosting, pk: int, created_at: object, alias: str
) -> Transaction:
    """Build the model instance of a row just written, without a query.

    Bulk posting returns thousands of these, and Model.__init__ is the slowest part
    of it; this fills the instance the way unpickling does, every field present.
    """
    row = Transaction.__new__(Transaction)
    row.__dict__.update(
        id=pk,
        idempotency_key=prepared.idempotency_key,
        content_digest=prepared.content_digest,
        kind=prepared.kind,
        reference=prepared.reference,
        memo=prepared.memo,
        reverses_id=prepared.reverses_id,
        created_at=created_at,
        effective_at=prepared.effective_at,
    )
    row._state = ModelState()
    row._state.adding = False
    row._state.db = alias
    return row


# The columns a posting writes, in the order every statement here and ledger.bulk's
# COPY lists them, each with the type its parameters are cast to: one list per
# table, so a column cannot be added to one statement and forgotten in another.
# `created_at` is the database's (a trigger stamps it) except on SQLite.
TRANSACTION_COLUMNS = (
    ("idempotency_key", "varchar"),
    ("content_digest", "varchar"),
    ("kind", "varchar"),
    ("reference", "varchar"),
    ("memo", "varchar"),
    ("reverses_id", "bigint"),
    ("effective_at", "timestamptz"),
)
ENTRY_COLUMNS = (
    "transaction_id",
    "account_id",
    "amount_micros",
    "currency",
    "created_at",
    "effective_at",
)
TRANSACTION_COLUMN_NAMES = ", ".join(name for name, _ in TRANSACTION_COLUMNS)
ENTRY_COLUMN_NAMES = ", ".join(ENTRY_COLUMNS)
# An entry's values in ENTRY_COLUMNS order, from its leg and its inserted transaction.
_ENTRY_FROM_LEG = (
    "inserted.id, leg.account_id, leg.amount_micros, leg.currency, inserted.created_at,"
    " inserted.effective_at"
)
_LEG_COLUMNS = (("account_id", "bigint"), ("amount_micros", "bigint"), ("currency", "varchar"))

_POSTGRESQL_INSERT = f"""
WITH inserted AS (
    INSERT INTO ledger_transaction ({TRANSACTION_COLUMN_NAMES})
    SELECT {TRANSACTION_COLUMN_NAMES}
      FROM unnest({", ".join(f"%s::{kind}[]" for _, kind in TRANSACTION_COLUMNS)})
           WITH ORDINALITY AS requested({TRANSACTION_COLUMN_NAMES}, position)
     ORDER BY position
        ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, idempotency_key, created_at, effective_at
), entries AS (
    INSERT INTO ledger_entry ({ENTRY_COLUMN_NAMES})
    SELECT {_ENTRY_FROM_LEG}
      FROM unnest(%s::varchar[], {", ".join(f"%s::{kind}[]" for _, kind in _LEG_COLUMNS)})
           WITH ORDINALITY
           AS leg(idempotency_key, {", ".join(name for name, _ in _LEG_COLUMNS)}, position)
      JOIN inserted USING (idempotency_key)
     ORDER BY leg.position
)
SELECT id, idempotency_key, created_at FROM inserted
"""


def server_bound_cursor() -> CursorWrapper:
    """A psycopg cursor with server-side parameter binding, in Django's wrapper.

    Django's default client-side binding sends every statement as text to be parsed
    and planned again; bound parameters let the posting statements be prepared once
    per connection (see `execute_prepared`). The wrapper keeps Django's query log and
    execute wrappers working.
    """
    import psycopg

    connection.ensure_connection()
    return connection._prepare_cursor(psycopg.Cursor(connection.connection))


# Django connects with prepare_threshold=None (no prepared statements at all, for
# PgBouncer's sake); while the ledger executes, this threshold lets psycopg prepare
# only what is explicitly asked for, and never anything automatically.
_PREPARE_ONLY_WHEN_ASKED = 2**31


def execute_prepared(cursor: CursorWrapper, sql: str, params: Sequence[object]) -> None:
    """Execute as a prepared statement, through Django's query log and execute wrappers.

    Planning the posting statement costs more than running it; preparing it once per
    connection takes that off every posting. With PgBouncer in transaction mode this
    needs PgBouncer 1.21 or later (max_prepared_statements).
    """
    pg_connection = connection.connection
    previous = pg_connection.prepare_threshold

    def prepared(sql: str, params: Sequence[object], many: bool, context: dict) -> None:
        with connection.wrap_database_errors:
            context["cursor"].cursor.execute(sql, params, prepare=True)

    with contextlib.ExitStack() as stack:
        if isinstance(cursor, CursorDebugWrapper):
            stack.enter_context(cursor.debug_sql(sql, params))
        if previous is None:
            pg_connection.prepare_threshold = _PREPARE_ONLY_WHEN_ASKED
            stack.callback(setattr, pg_connection, "prepare_threshold", None)
        cursor._execute_with_wrappers(sql, params, many=False, executor=prepared)


_POSTGRESQL_INSERT_ONE = f"""
WITH inserted AS (
    INSERT INTO ledger_transaction ({TRANSACTION_COLUMN_NAMES})
    VALUES ({", ".join(f"%s::{kind}" for _, kind in TRANSACTION_COLUMNS)})
        ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id, created_at, effective_at
), entries AS (
    INSERT INTO ledger_entry ({ENTRY_COLUMN_NAMES})
    SELECT {_ENTRY_FROM_LEG}
      FROM inserted, (VALUES {{legs}})
           AS leg(position, {", ".join(name for name, _ in _LEG_COLUMNS)})
     ORDER BY leg.position
)
SELECT id, created_at FROM inserted
"""
_LEG_VALUES = ", ".join(f"%s::{kind}" for _, kind in _LEG_COLUMNS)


@functools.cache
def insert_one_sql(leg_count: int) -> str:
    """The single-posting statement for this many legs (one prepared plan per count)."""
    legs = ", ".join(f"({position}, {_LEG_VALUES})" for position in range(leg_count))
    return _POSTGRESQL_INSERT_ONE.format(legs=legs)


def insert_one_params(posting: PreparedPosting) -> list[object]:
    params: list[object] = [
        posting.idempotency_key,
        posting.content_digest,
        posting.kind,
        posting.reference,
        posting.memo,
        posting.reverses_id,
        posting.effective_at,
    ]
    for leg in posting.legs:
        params += leg
    return params


def _insert_postgresql_one(posting: PreparedPosting) -> dict[str, Transaction]:
    """Insert one posting with one statement of scalar parameters (the common case).

    A replayed key skips both inserts through ON CONFLICT, costing nothing extra.
    """
    with server_bound_cursor() as cursor:
        execute_prepared(cursor, insert_one_sql(len(posting.legs)), insert_one_params(posting))
        row = cursor.fetchone()
    if row is None:
        return {}
    return {posting.idempotency_key: transaction_row(posting, row[0], row[1], connection.alias)}


def _insert_postgresql_statement(prepared: Sequence[PreparedPosting]) -> dict[str, Transaction]:
    """Insert with one statement; replays skip via ON CONFLICT, costing nothing extra."""
    leg_keys: list[str] = []
    leg_accounts: list[int] = []
    leg_amounts: list[int] = []
    leg_currencies: list[str] = []
    for posting in prepared:
        for leg in posting.legs:
            leg_keys.append(posting.idempotency_key)
            leg_accounts.append(leg.account_id)
            leg_amounts.append(leg.amount_micros)
            leg_currencies.append(leg.currency)
    params = [
        [p.idempotency_key for p in prepared],
        [p.content_digest for p in prepared],
        [p.kind for p in prepared],
        [p.reference for p in prepared],
        [p.memo for p in prepared],
        [p.reverses_id for p in prepared],
        [p.effective_at for p in prepared],
        leg_keys,
        leg_accounts,
        leg_amounts,
        leg_currencies,
    ]
    by_key = {p.idempotency_key: p for p in prepared}
    with server_bound_cursor() as cursor:
        execute_prepared(cursor, _POSTGRESQL_INSERT, params)
        alias = connection.alias
        return {
            key: transaction_row(by_key[key], pk, at, alias) for pk, key, at in cursor.fetchall()
        }


def _insert_postgresql(prepared: Sequence[PreparedPosting]) -> dict[str, Transaction]:
    if len(prepared) == 1 and len(prepared[0].legs) <= SCALAR_LEGS_MAX:
        return _insert_postgresql_one(prepared[0])
    return _insert_postgresql_statement(prepared)


_GENERIC_TRANSACTION_INSERT = (
    f"INSERT INTO ledger_transaction ({TRANSACTION_COLUMN_NAMES}, created_at)"
    f" VALUES ({', '.join(['%s'] * (len(TRANSACTION_COLUMNS) + 1))})"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
_GENERIC_ENTRY_INSERT = (
    f"INSERT INTO ledger_entry ({ENTRY_COLUMN_NAMES})"
    f" VALUES ({', '.join(['%s'] * len(ENTRY_COLUMNS))})"
)


def write_lock_take(cursor: object) -> None:
    """On SQLite, take the database's single write lock now (a no-op write does)."""
    cursor.execute("UPDATE ledger_transaction SET id = id WHERE 0 = 1")


def _insert_generic(prepared: Sequence[PreparedPosting]) -> dict[str, Transaction]:
    inserted: dict[str, Transaction] = {}
    entry_rows: list[tuple[object, ...]] = []
    with connection.cursor() as cursor:
        write_lock_take(cursor)
        # Read the clock only once the lock is ours; see the module docstring.
        created_at = timezone.now()
        adapt = connection.ops.adapt_datetimefield_value
        created_at_db = adapt(created_at)
        for posting in prepared:
            effective_at_db = adapt(posting.effective_at)
            cursor.execute(
                _GENERIC_TRANSACTION_INSERT,
                [
                    posting.idempotency_key,
                    posting.content_digest,
                    posting.kind,
                    posting.reference,
                    posting.memo,
                    posting.reverses_id,
                    effective_at_db,
                    created_at_db,
                ],
            )
            row = cursor.fetchone()
            if row is None:
                continue
            inserted[posting.idempotency_key] = transaction_row(
                posting, row[0], created_at, connection.alias
            )
            entry_rows.extend(
                (
                    row[0],
                    leg.account_id,
                    leg.amount_micros,
                    leg.currency,
                    created_at_db,
                    effective_at_db,
                )
                for leg in posting.legs
            )
        if entry_rows:
            cursor.executemany(_GENERIC_ENTRY_INSERT, entry_rows)
    return inserted


def rows_insert(prepared: Sequence[PreparedPosting]) -> dict[str, Transaction]:
    """Insert the postings whose keys are new; return those, by idempotency key.

    Must run inside a transaction: the caller compares the skipped keys' digests and
    rolls everything back on a conflict.
    """
    assert connection.in_atomic_block, "posting must run inside transaction.atomic()"
    if connection.vendor == "postgresql":
        return _insert_postgresql(prepared)
    return _insert_generic(prepared)


# Which rule a database error broke, by the constraint name the triggers (or SQLite's
# message) give, and the error code the services answer with.
_CONSTRAINT_CODES: dict[str, LedgerErrorCode] = {
    "ledger_entry_account_exists": LedgerErrorCode.ACCOUNT_NOT_FOUND,
    "ledger_entry_currency": LedgerErrorCode.CURRENCY_MISMATCH,
    "ledger_transaction_reverses_id_key": LedgerErrorCode.ALREADY_REVERSED,
    "ledger_transaction.reverses_id": LedgerErrorCode.ALREADY_REVERSED,
}


def integrity_error_translate(error: IntegrityError) -> LedgerError | None:
    """Name the ledger rule an IntegrityError broke, if it is one the services know."""
    diagnostics = getattr(error.__cause__, "diag", None)
    names = [getattr(diagnostics, "constraint_name", None) or "", str(error)]
    for constraint, code in _CONSTRAINT_CODES.items():
        if any(constraint in name for name in names):
            return LedgerError(code, f"The database refused the posting: {error}".strip())
    return None
