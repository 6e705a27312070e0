"""The accounts this process saw committed, by reference: a sale's accounts without a query.

Every card purchase posts to the same few accounts (the platform's Stripe balance and
commission, the work's co-owners' payables), and reading them back was a twelfth of a
purchase's CPU (docs/benchmarks.md, "Plain ORM again"). An account is never deleted
and its code, kind and currency never change, so once a reference has been checked
against a committed row (`accounts_open`), that row's values stay right.

What may enter: only what a transaction that committed saw (`transaction.on_commit`),
so an account opened in a transaction that rolls back never does, nor one opened by
a test whose transaction is rolled back at its end. Keyed by the database (its alias
and name), so the databases of one process never share ids. Tables emptied under a
running process (a test suite's flush) must be followed by `account_cache_clear()`;
tests/conftest.py calls it before every test. Bounded: past `ACCOUNTS_CACHED_MAX`
references per database it starts again empty.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

from django.db import connection, transaction

from config.db import current_database
from ledger.models import Account

ACCOUNTS_CACHED_MAX = 10_000
_FIELD_NAMES = tuple(field.attname for field in Account._meta.concrete_fields)
# Per database, each reference's account as its column values, so every caller gets
# an instance of its own (nobody can change another request's account).
_cached: dict[tuple[str, str], dict[Hashable, tuple]] = {}


def accounts_cached(refs: Iterable[Hashable]) -> dict[Hashable, Account]:
    """The cached accounts among these references, each a new instance."""
    cached = _cached.get(current_database())
    if not cached:
        return {}
    alias = connection.alias
    found = {}
    for ref in refs:
        # One lookup, not `in` then `[]`: another thread may empty the cache between them.
        values = cached.get(ref)
        if values is not None:
            found[ref] = Account.from_db(alias, _FIELD_NAMES, values)
    return found


def accounts_remember(opened: Mapping[Hashable, Account]) -> None:
    """Cache these checked accounts once the transaction that read them commits."""
    if not opened:
        return
    database = current_database()
    rows = {
        ref: tuple(getattr(account, name) for name in _FIELD_NAMES)
        for ref, account in opened.items()
    }

    def remember() -> None:
        cached = _cached.setdefault(database, {})
        if len(cached) + len(rows) > ACCOUNTS_CACHED_MAX:
            cached.clear()
        cached.update(rows)

    transaction.on_commit(remember, using=connection.alias)


def account_cache_clear() -> None:
    """Forget every cached account (after the tables were emptied: tests)."""
    _cached.clear()
