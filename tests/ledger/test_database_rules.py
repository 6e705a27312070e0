"""PostgreSQL keeps the books by itself: raw SQL that bypasses every service is refused.

Each test writes with plain SQL through Django's connection, as any other client of
the database could, and asserts which rule (constraint name) refused it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from ledger.models import Account, Entry, Transaction
from ledger.services import Leg, transaction_post
from tests.ledger.conftest import Books, books_open

pytestmark = pytest.mark.postgres


def _sql(statement: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.fetchall() if cursor.description else []


def _raw_transaction(key: str) -> tuple[int, object]:
    [(pk, created_at)] = _sql(
        "INSERT INTO ledger_transaction (idempotency_key, content_digest, kind, reference, memo)"
        " VALUES (%s, 'raw', 'raw', '', '') RETURNING id, created_at",
        [key],
    )
    return pk, created_at


def _raw_entry(transaction_id: int, account: Account, amount: int, created_at: object,
               currency: str | None = None, effective_at: object = None) -> None:  # fmt: skip
    """Insert an entry; its business time is `created_at` unless given (a raw
    transaction's business time defaults to its posting time)."""
    _sql(
        "INSERT INTO ledger_entry"
        " (transaction_id, account_id, amount_micros, currency, created_at, effective_at)"
        " VALUES (%s, %s, %s, %s, %s, %s)",
        [
            transaction_id,
            account.pk,
            amount,
            currency or account.currency,
            created_at,
            created_at if effective_at is None else effective_at,
        ],
    )


@contextmanager
def _refused(constraint: str) -> Iterator[None]:
    """Expect the database to refuse what the block does, naming the rule it broke."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        yield
    assert caught.value.__cause__.diag.constraint_name == constraint


class TestAtCommit:
    """These need a real COMMIT, so they run outside the test's own transaction."""

    @pytest.fixture
    def books(self, transactional_db: None) -> Books:
        return books_open("eur")

    def test_a_balanced_raw_transaction_commits(self, books: Books) -> None:
        with transaction.atomic():
            pk, at = _raw_transaction("raw-ok")
            _raw_entry(pk, books.cash, 100, at)
            _raw_entry(pk, books.commission, -100, at)
        assert Entry.objects.filter(transaction_id=pk).count() == 2

    def test_an_unbalanced_transaction_fails_at_commit(self, books: Books) -> None:
        with _refused("ledger_transaction_balanced"):
            pk, at = _raw_transaction("raw-unbalanced")
            _raw_entry(pk, books.cash, 100, at)
            _raw_entry(pk, books.commission, -99, at)  # accepted here: checked at COMMIT
        assert not Transaction.objects.filter(idempotency_key="raw-unbalanced").exists()
        assert Entry.objects.count() == 0

    def test_a_transaction_with_one_entry_fails_at_commit(self, books: Books) -> None:
        with _refused("ledger_transaction_balanced"):
            pk, at = _raw_transaction("raw-single")
            _raw_entry(pk, books.cash, 5, at)
        assert Transaction.objects.count() == 0

    def test_a_transaction_without_entries_fails_at_commit(self, books: Books) -> None:
        with _refused("ledger_transaction_balanced"):
            _raw_transaction("raw-empty")
        assert Transaction.objects.count() == 0

    def test_each_currency_must_balance_at_commit(self, books: Books) -> None:
        usd = books_open("usd")
        with _refused("ledger_transaction_balanced"):
            pk, at = _raw_transaction("raw-fx")
            _raw_entry(pk, books.cash, 100, at)
            _raw_entry(pk, usd.cash, -100, at)

    def test_entries_cannot_be_added_to_a_committed_transaction(self, books: Books) -> None:
        sale = transaction_post(idempotency_key="s", kind="sale", legs=books.sale(100, 20))
        with _refused("ledger_entry_same_transaction"):
            _raw_entry(sale.pk, books.cash, 7, sale.created_at)
            _raw_entry(sale.pk, books.commission, -7, sale.created_at)
        assert Entry.objects.filter(transaction=sale).count() == 3

    def test_one_check_covers_a_whole_batch_and_finds_the_bad_one(self, books: Books) -> None:
        with _refused("ledger_transaction_balanced"):
            for index in range(5):
                pk, at = _raw_transaction(f"raw-batch-{index}")
                _raw_entry(pk, books.cash, 100, at)
                _raw_entry(pk, books.commission, -100 if index != 3 else -1, at)
        assert Transaction.objects.count() == 0

    def test_an_empty_transaction_inside_a_batch_fails_at_commit(self, books: Books) -> None:
        with _refused("ledger_transaction_balanced"):
            for index in range(3):
                pk, at = _raw_transaction(f"raw-gap-{index}")
                if index != 1:
                    _raw_entry(pk, books.cash, 100, at)
                    _raw_entry(pk, books.commission, -100, at)
        assert Transaction.objects.count() == 0


class TestImmediately:
    def test_update_of_an_entry_is_refused(self, eur: Books) -> None:
        sale = transaction_post(idempotency_key="s", kind="sale", legs=eur.sale(100, 20))
        with _refused("ledger_entry_append_only"):
            _sql(
                "UPDATE ledger_entry SET amount_micros = amount_micros + 1"
                " WHERE transaction_id = %s",
                [sale.pk],
            )
        assert sorted(sale.entries.values_list("amount_micros", flat=True)) == [-80, -20, 100]

    def test_delete_of_an_entry_is_refused(self, eur: Books) -> None:
        sale = transaction_post(idempotency_key="s", kind="sale", legs=eur.sale(100, 20))
        with _refused("ledger_entry_append_only"):
            _sql("DELETE FROM ledger_entry WHERE transaction_id = %s", [sale.pk])
        assert sale.entries.count() == 3

    def test_update_of_a_transaction_is_refused(self, eur: Books) -> None:
        sale = transaction_post(idempotency_key="s", kind="sale", legs=eur.sale(100, 20))
        with _refused("ledger_transaction_append_only"):
            _sql("UPDATE ledger_transaction SET memo = 'edited' WHERE id = %s", [sale.pk])
        assert Transaction.objects.get(pk=sale.pk).memo == ""

    def test_update_of_a_business_time_is_refused(self, eur: Books) -> None:
        moment = datetime(2026, 3, 1, tzinfo=UTC)
        sale = transaction_post(
            idempotency_key="s", kind="sale", legs=eur.sale(100, 20), effective_at=moment
        )
        with _refused("ledger_transaction_append_only"):
            _sql(
                "UPDATE ledger_transaction SET effective_at = effective_at + interval '1 day'"
                " WHERE id = %s",
                [sale.pk],
            )
        with _refused("ledger_entry_append_only"):
            _sql(
                "UPDATE ledger_entry SET effective_at = effective_at - interval '1 day'"
                " WHERE transaction_id = %s",
                [sale.pk],
            )
        assert Transaction.objects.get(pk=sale.pk).effective_at == moment
        assert set(sale.entries.values_list("effective_at", flat=True)) == {moment}

    def test_delete_of_a_transaction_is_refused(self, eur: Books) -> None:
        sale = transaction_post(idempotency_key="s", kind="sale", legs=eur.sale(100, 20))
        with _refused("ledger_transaction_append_only"):
            _sql("DELETE FROM ledger_transaction WHERE id = %s", [sale.pk])
        assert Transaction.objects.filter(pk=sale.pk).exists()

    def test_an_entry_in_another_currency_than_its_account_is_refused(self, eur: Books) -> None:
        with _refused("ledger_entry_currency"):
            pk, at = _raw_transaction("raw-currency")
            _raw_entry(pk, eur.cash, 100, at, currency="usd")

    def test_an_entry_on_a_missing_account_is_refused(self, eur: Books) -> None:
        ghost = Account(pk=987_654, currency="eur")
        with _refused("ledger_entry_account_exists"):
            pk, at = _raw_transaction("raw-ghost")
            _raw_entry(pk, ghost, 100, at)

    def test_an_entry_of_a_missing_transaction_is_refused(self, eur: Books) -> None:
        with _refused("ledger_entry_transaction_exists"):
            _raw_entry(987_654, eur.cash, 100, "2025-01-01T00:00:00Z")

    def test_an_entry_must_carry_its_transactions_time(self, eur: Books) -> None:
        with _refused("ledger_entry_created_at"):
            pk, _ = _raw_transaction("raw-time")
            _raw_entry(pk, eur.cash, 100, "2020-01-01T00:00:00Z")

    def test_an_entry_must_carry_its_transactions_business_time(self, eur: Books) -> None:
        with _refused("ledger_entry_effective_at"):
            pk, at = _raw_transaction("raw-business-time")
            _raw_entry(pk, eur.cash, 100, at)
            _raw_entry(pk, eur.commission, -100, at, effective_at="2020-01-01T00:00:00Z")

    def test_business_time_is_the_clients_and_defaults_to_the_posting_time(
        self, eur: Books
    ) -> None:
        [(pk, created_at, effective_at)] = _sql(
            "INSERT INTO ledger_transaction (idempotency_key, content_digest, kind, reference,"
            " memo) VALUES ('no-time', 'raw', 'raw', '', '') RETURNING id, created_at, effective_at"
        )
        assert effective_at == created_at
        _raw_entry(pk, eur.cash, 1, created_at)
        _raw_entry(pk, eur.commission, -1, created_at)
        [(pk, created_at, effective_at)] = _sql(
            "INSERT INTO ledger_transaction (idempotency_key, content_digest, kind, reference,"
            " memo, effective_at) VALUES ('dated', 'raw', 'raw', '', '', '2025-07-01T00:00:00Z')"
            " RETURNING id, created_at, effective_at"
        )
        assert effective_at == datetime(2025, 7, 1, tzinfo=UTC) < created_at
        _raw_entry(pk, eur.cash, 1, created_at, effective_at=effective_at)
        _raw_entry(pk, eur.commission, -1, created_at, effective_at=effective_at)

    def test_no_entry_after_the_balance_check(self, eur: Books) -> None:
        with _refused("ledger_entry_transaction_checked"):
            pk, at = _raw_transaction("raw-checked")
            _raw_entry(pk, eur.cash, 100, at)
            _raw_entry(pk, eur.commission, -100, at)
            _sql("SET CONSTRAINTS ALL IMMEDIATE")  # the check runs, as at COMMIT
            _raw_entry(pk, eur.cash, 5, at)

    def test_the_database_allocates_ids_and_stamps_times(self, eur: Books) -> None:
        [(pk, created_at, xid_matches)] = _sql(
            "INSERT INTO ledger_transaction"
            " (id, idempotency_key, content_digest, kind, reference, memo, created_at, xid)"
            " VALUES (1000000000000, 'forged', 'raw', 'raw', '', '', '2000-01-01T00:00:00Z', '1')"
            " RETURNING id, created_at, xid = pg_current_xact_id()"
        )
        assert pk < 1_000_000_000_000
        assert created_at.year > 2000
        assert xid_matches
        # Balance it: Django checks deferred constraints when the test ends.
        _raw_entry(pk, eur.cash, 1, created_at)
        _raw_entry(pk, eur.commission, -1, created_at)

    def test_accounts_keep_their_code_and_currency_and_are_never_deleted(self, eur: Books) -> None:
        with _refused("ledger_account_fixed"):
            _sql("UPDATE ledger_account SET currency = 'usd' WHERE id = %s", [eur.cash.pk])
        with _refused("ledger_account_fixed"):
            _sql("UPDATE ledger_account SET code = 'x' WHERE id = %s", [eur.cash.pk])
        with _refused("ledger_account_fixed"):
            _sql("DELETE FROM ledger_account WHERE id = %s", [eur.cash.pk])
        _sql("UPDATE ledger_account SET name = 'Stripe balance' WHERE id = %s", [eur.cash.pk])
        assert Account.objects.get(pk=eur.cash.pk).name == "Stripe balance"

    def test_seal_blocks_and_checkpoints_are_append_only(self, eur: Books) -> None:
        from ledger.services import ledger_seal

        transaction_post(
            idempotency_key="s", kind="sale", legs=[Leg(eur.cash, 1), Leg(eur.commission, -1)]
        )
        ledger_seal()
        with _refused("ledger_sealblock_append_only"):
            _sql("UPDATE ledger_sealblock SET block_hash = 'x'")
        with _refused("ledger_balancecheckpoint_append_only"):
            _sql("DELETE FROM ledger_balancecheckpoint")
        with _refused("ledger_checkpointrun_append_only"):
            _sql("DELETE FROM ledger_checkpointrun")
