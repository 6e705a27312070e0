"""Sealing into a hash chain, verifying it, and catching tampering behind the triggers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from ledger import sealing
from ledger.checkpoints import balance_checkpoints_write
from ledger.models import SealBlock, Transaction
from ledger.sealing import GENESIS_HASH, blocks_seal, chain_verify
from ledger.selectors import seal_state
from ledger.services import transaction_post
from tests.ledger.conftest import Books, deferred_checks_run, on_postgresql

pytestmark = pytest.mark.django_db


def _post(books: Books, count: int, prefix: str = "s") -> list[Transaction]:
    return [
        transaction_post(
            idempotency_key=f"{prefix}-{index}", kind="sale", legs=books.sale(100 + index, 10)
        )
        for index in range(count)
    ]


@contextmanager
def _triggers_off() -> Iterator[None]:
    """Write behind the ledger's back, as someone with direct database access could."""
    if on_postgresql():
        with connection.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # no triggers fire
        try:
            yield
        finally:
            with connection.cursor() as cursor:
                cursor.execute("SET session_replication_role = DEFAULT")
    else:
        yield  # SQLite has no ledger triggers to turn off


def _tamper(sql: str, params: list) -> None:
    # Let PostgreSQL's pending commit-time checks pass first, as a COMMIT would have.
    deferred_checks_run()
    with _triggers_off(), connection.cursor() as cursor:
        cursor.execute(sql, params)


class TestSeal:
    def test_blocks_cover_transactions_in_id_order_and_chain(
        self, eur: Books, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sealing, "BLOCK_TRANSACTIONS_MAX", 2)
        posted = _post(eur, 5)

        summary = blocks_seal()

        assert (summary.blocks, summary.transactions) == (3, 5)
        blocks = list(SealBlock.objects.order_by("number"))
        assert [(b.after_transaction_id, b.last_transaction_id) for b in blocks] == [
            (0, posted[1].pk),
            (posted[1].pk, posted[3].pk),
            (posted[3].pk, posted[4].pk),
        ]
        assert [b.transaction_count for b in blocks] == [2, 2, 1]
        assert [b.entry_count for b in blocks] == [6, 6, 3]
        assert blocks[0].previous_hash == GENESIS_HASH
        assert [b.previous_hash for b in blocks[1:]] == [b.block_hash for b in blocks[:-1]]
        assert chain_verify().ok

    def test_a_later_run_continues_the_chain(self, eur: Books) -> None:
        first = _post(eur, 2, "a")
        blocks_seal()
        assert blocks_seal().blocks == 0  # nothing new
        second = _post(eur, 3, "b")
        blocks_seal()

        later = SealBlock.objects.get(number=2)
        assert (later.after_transaction_id, later.last_transaction_id) == (
            first[-1].pk,
            second[-1].pk,
        )
        state = seal_state()
        assert (state.blocks, state.last_transaction_id, state.unsealed_transactions) == (
            2,
            second[-1].pk,
            0,
        )
        report = chain_verify()
        assert (report.ok, report.blocks_checked, report.transactions_sealed) == (True, 2, 5)

    def test_nothing_to_seal(self, db: None) -> None:
        assert blocks_seal().blocks == 0
        assert chain_verify().ok


class TestTampering:
    """Rows changed with the triggers disabled are found by recomputing the chain."""

    def test_a_changed_entry_is_found_and_its_block_named(
        self, eur: Books, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(sealing, "BLOCK_TRANSACTIONS_MAX", 2)
        posted = _post(eur, 5)
        blocks_seal()
        balance_checkpoints_write()

        _tamper(
            "UPDATE ledger_entry SET amount_micros = amount_micros + 1000"
            " WHERE transaction_id = %s AND amount_micros > 0",
            [posted[2].pk],
        )
        report = chain_verify()

        assert not report.ok
        assert report.first_bad_block == 2
        assert report.problems[0].startswith(f"block 2 (transactions {posted[1].pk + 1}..")
        assert f"transaction {posted[2].pk} does not balance in eur" in " ".join(report.problems)
        assert any("checkpoint of account" in problem for problem in report.problems)

    def test_a_deleted_transaction_is_found(self, eur: Books) -> None:
        posted = _post(eur, 3)
        blocks_seal()
        _tamper("DELETE FROM ledger_entry WHERE transaction_id = %s", [posted[1].pk])
        _tamper("DELETE FROM ledger_transaction WHERE id = %s", [posted[1].pk])
        report = chain_verify()
        assert report.first_bad_block == 1
        assert "now 2 transactions, 6 entries" in report.problems[0]

    def test_a_changed_memo_is_found(self, eur: Books) -> None:
        posted = _post(eur, 1)
        blocks_seal()
        _tamper("UPDATE ledger_transaction SET memo = 'edited' WHERE id = %s", [posted[0].pk])
        assert chain_verify().first_bad_block == 1

    def test_a_rewritten_block_hash_breaks_the_chain(self, eur: Books) -> None:
        _post(eur, 2, "a")
        blocks_seal()
        _post(eur, 2, "b")
        blocks_seal()
        _tamper("UPDATE ledger_sealblock SET block_hash = %s WHERE number = 1", ["f" * 64])
        report = chain_verify()
        assert report.first_bad_block == 1
        assert "block hash does not match" in report.problems[0]

    def test_an_account_moved_to_another_currency_is_found(self, eur: Books) -> None:
        _post(eur, 1)
        _tamper("UPDATE ledger_account SET currency = 'usd' WHERE id = %s", [eur.cash.pk])
        report = chain_verify()
        assert report.first_bad_block is None
        assert any("is on account" in problem for problem in report.problems)

    @pytest.mark.postgres
    def test_ledger_verify_fails_after_tampering_with_all_triggers_disabled(
        self, eur: Books
    ) -> None:
        posted = _post(eur, 3)
        blocks_seal()
        call_command("ledger_verify", stdout=StringIO())  # passes before
        deferred_checks_run()

        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ALL")
            cursor.execute(
                "UPDATE ledger_entry SET amount_micros = -amount_micros WHERE transaction_id = %s",
                [posted[0].pk],
            )
            cursor.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ALL")

        errors = StringIO()
        with pytest.raises(CommandError, match="first bad block: 1"):
            call_command("ledger_verify", stdout=StringIO(), stderr=errors)
        assert "- block 1 (transactions 1.." in errors.getvalue()


class TestCommands:
    def test_ledger_seal_and_verify(self, eur: Books) -> None:
        _post(eur, 2)
        out = StringIO()
        call_command("ledger_seal", stdout=out)
        assert "checkpoints: 3 for 3 accounts" in out.getvalue()
        assert "sealing: 1 blocks, 2 transactions" in out.getvalue()

        out = StringIO()
        call_command("ledger_verify", stdout=out)
        assert "ledger verified: 1 blocks checked, 2 transactions sealed" in out.getvalue()
