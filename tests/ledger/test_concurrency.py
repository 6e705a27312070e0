"""Postings from several connections at once, on PostgreSQL.

Each thread gets its own database connection (Django's connections are per thread),
so these are real concurrent transactions racing on the same rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connection, transaction

from ledger.checkpoints import balance_checkpoints_write
from ledger.errors import LedgerError
from ledger.models import Entry, SealBlock, Transaction
from ledger.sealing import blocks_seal, chain_verify
from ledger.selectors import account_balance
from ledger.services import Posting, transaction_post, transactions_post_many
from tests.ledger.conftest import Books, books_open

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

CONNECTIONS = 8


def _race(work: Callable[[int], Any], workers: int = CONNECTIONS) -> list[Any]:
    """Run work(0..n-1) in n threads released together; return results or exceptions."""
    start = threading.Barrier(workers)

    def run(index: int) -> Any:
        try:
            start.wait(timeout=10)
            return work(index)
        except Exception as error:  # collected and asserted on by the test
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(workers)))


@pytest.fixture
def books() -> Books:
    return books_open("eur")


def test_one_key_from_eight_connections_posts_once(books: Books) -> None:
    results = _race(
        lambda _: transaction_post(idempotency_key="once", kind="sale", legs=books.sale(1_000, 200))
    )

    assert all(isinstance(result, Transaction) for result in results), results
    assert len({result.pk for result in results}) == 1
    assert Transaction.objects.filter(idempotency_key="once").count() == 1
    assert Entry.objects.count() == 3
    assert account_balance(books.cash) == 1_000


def test_one_key_with_different_content_one_wins_the_others_conflict(books: Books) -> None:
    results = _race(
        lambda index: transaction_post(
            idempotency_key="contested", kind="sale", legs=books.sale(1_000 + index, 200)
        )
    )

    posted = [result for result in results if isinstance(result, Transaction)]
    refused = [result for result in results if isinstance(result, LedgerError)]
    assert len(posted) == 1
    assert len(refused) == CONNECTIONS - 1
    assert {error.code for error in refused} == {"idempotency_key_conflict"}
    assert Transaction.objects.count() == 1


def test_overlapping_batches_post_each_key_once(books: Books) -> None:
    def batch(index: int) -> list[Transaction]:
        keys = range(index * 50, index * 50 + 100)  # each batch overlaps the next by half
        return transactions_post_many(
            postings=[Posting(f"k-{key}", "sale", books.sale(100 + key, 10)) for key in keys]
        )

    results = _race(batch, workers=4)

    assert all(isinstance(result, list) for result in results), results
    assert Transaction.objects.count() == 250
    by_key = {row.idempotency_key: row.pk for result in results for row in result}
    assert len(by_key) == 250
    assert Entry.objects.count() == 750


def test_bulk_batches_from_several_connections_commit_side_by_side(books: Books) -> None:
    """Each commit-time check reads id ranges that interleave with the others' commits."""

    def batches(index: int) -> int:
        for number in range(6):
            transactions_post_many(
                postings=[
                    Posting(f"b-{index}-{number}-{n}", "sale", books.sale(100 + n, 10))
                    for n in range(80)
                ]
            )
        return 6 * 80

    results = _race(batches, workers=4)

    assert results == [480] * 4, results
    assert Transaction.objects.count() == 4 * 480
    assert account_balance(books.cash) == 4 * 6 * sum(100 + n for n in range(80))


def test_a_hot_account_loses_no_posting(books: Books) -> None:
    def post(index: int) -> None:
        for number in range(25):
            transaction_post(
                idempotency_key=f"hot-{index}-{number}",
                kind="sale",
                legs=books.sale(1_000 + number, 100 + index),
            )

    results = _race(post)

    assert results == [None] * CONNECTIONS
    expected_commission = sum(100 + index for index in range(CONNECTIONS)) * 25
    assert account_balance(books.commission) == -expected_commission
    assert Transaction.objects.count() == CONNECTIONS * 25


def test_sealing_never_passes_a_posting_still_in_flight(books: Books) -> None:
    """A lower id that commits after a higher one is never left outside a sealed range."""
    posted_early = threading.Event()
    release = threading.Event()

    def slow_posting() -> Transaction:
        try:
            with transaction.atomic():
                row = transaction_post(idempotency_key="slow", kind="sale", legs=books.sale(10, 1))
                posted_early.set()
                assert release.wait(timeout=10)
            return row
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        slow = pool.submit(slow_posting)
        assert posted_early.wait(timeout=10)
        fast = transaction_post(idempotency_key="fast", kind="sale", legs=books.sale(20, 2))

        blocked = blocks_seal(wait_seconds_max=0.2)
        assert blocked.skipped == "postings in flight outlasted the wait"
        assert balance_checkpoints_write(wait_seconds_max=0.2).skipped
        assert SealBlock.objects.count() == 0

        release.set()
        slow_row = slow.result(timeout=10)

    assert slow_row.pk < fast.pk  # the lower id committed last
    sealed = blocks_seal()
    assert (sealed.blocks, sealed.transactions) == (1, 2)
    balance_checkpoints_write()
    assert account_balance(books.cash) == 30
    report = chain_verify()
    assert report.ok, report.problems


def test_sealing_while_postings_go_on_keeps_a_valid_chain(books: Books) -> None:
    stop = threading.Event()

    def work(index: int) -> int:
        if index == 0:
            runs = 0
            while not stop.is_set() and runs < 50:
                blocks_seal(wait_seconds_max=2)
                balance_checkpoints_write(wait_seconds_max=2)
                runs += 1
            return runs
        for number in range(30):
            transaction_post(
                idempotency_key=f"p-{index}-{number}", kind="sale", legs=books.sale(100, 10)
            )
        if index == 1:
            stop.set()
        return 0

    results = _race(work, workers=4)
    assert not [result for result in results if isinstance(result, Exception)], results

    blocks_seal()
    balance_checkpoints_write()
    report = chain_verify()
    assert report.ok, report.problems
    assert report.transactions_sealed == 90
    assert account_balance(books.cash) == 9_000
