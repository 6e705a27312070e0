"""Business time: postings backdated and postdated, read as of business and recording moments.

A sale effective on 1 March but posted today must count in a balance as of 31 March
and not in one as of 28 February, whatever checkpoints were written in between; the
books as recorded before it was posted must not show it at all.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from ledger import bulk
from ledger.checkpoints import balance_checkpoints_write
from ledger.errors import LedgerError
from ledger.models import Entry, Transaction
from ledger.sealing import blocks_seal, chain_verify
from ledger.selectors import (
    account_balance,
    account_balances,
    account_entries,
    accounts_with_balances,
    trial_balance,
)
from ledger.services import Posting, transaction_post, transaction_reverse, transactions_post_many
from tests.ledger.conftest import Books
from tests.ledger.test_sealing import _tamper

pytestmark = pytest.mark.django_db

MARCH_1 = datetime(2026, 3, 1, tzinfo=UTC)
FEBRUARY_END = MARCH_1 - timedelta(microseconds=1)
MARCH_END = datetime(2026, 4, 1, tzinfo=UTC) - timedelta(microseconds=1)


def _written() -> tuple[int, int]:
    return Transaction.objects.count(), Entry.objects.count()


def _sale(books: Books, key: str, amount: int, effective_at: datetime | None) -> Transaction:
    return transaction_post(
        idempotency_key=key,
        kind="sale",
        legs=books.sale(amount, amount // 10),
        effective_at=effective_at,
    )


class TestBackdated:
    def test_a_backdated_sale_reads_in_its_business_period(self, eur: Books) -> None:
        # Given a sale posted now and, after a checkpoint, one backdated to 1 March
        today = _sale(eur, "today", 1_000_000, None)
        balance_checkpoints_write()
        march = _sale(eur, "march", 300_000, MARCH_1)

        # Then both are in the books now; only the March one as of March's end
        assert march.effective_at == MARCH_1 < march.created_at
        assert today.effective_at <= today.created_at
        assert account_balance(eur.cash) == 1_300_000
        assert account_balance(eur.cash, as_of=FEBRUARY_END) == 0
        assert account_balance(eur.cash, as_of=MARCH_1) == 300_000
        assert account_balance(eur.cash, as_of=MARCH_END) == 300_000
        assert account_balance(eur.payable, as_of=MARCH_END) == -270_000
        assert account_balance(eur.cash, as_of=today.effective_at) == 1_300_000

    def test_the_books_as_recorded_before_the_backdating_do_not_show_it(self, eur: Books) -> None:
        today = _sale(eur, "today", 1_000_000, None)
        balance_checkpoints_write()
        march = _sale(eur, "march", 300_000, MARCH_1)

        # What the books said about March's end when only "today" was posted: nothing.
        before = {"as_of": MARCH_END, "recorded_as_of": today.created_at}
        assert account_balance(eur.cash, **before) == 0
        assert account_balance(eur.cash, recorded_as_of=today.created_at) == 1_000_000
        after = {"as_of": MARCH_END, "recorded_as_of": march.created_at}
        assert account_balance(eur.cash, **after) == 300_000

    def test_a_postdated_sale_is_posted_but_not_yet_effective(self, eur: Books) -> None:
        next_year = datetime.now(UTC) + timedelta(days=365)
        _sale(eur, "later", 500_000, next_year)
        assert account_balance(eur.cash) == 500_000  # every entry posted
        assert account_balance(eur.cash, as_of=datetime.now(UTC)) == 0
        assert account_balance(eur.cash, as_of=next_year) == 500_000

    def test_many_accounts_and_the_trial_balance_as_of_a_business_moment(
        self, eur: Books, django_assert_num_queries: object
    ) -> None:
        _sale(eur, "today", 1_000_000, None)
        balance_checkpoints_write()
        _sale(eur, "march", 300_000, MARCH_1)
        _sale(eur, "april", 50_000, MARCH_END + timedelta(microseconds=1))

        accounts = [eur.cash, eur.payable, eur.commission, eur.other_payable]
        with django_assert_num_queries(1):
            closing = account_balances(accounts, as_of=MARCH_END)
        assert closing == {
            eur.cash.pk: 300_000,
            eur.payable.pk: -270_000,
            eur.commission.pk: -30_000,
            eur.other_payable.pk: 0,
        }
        annotated = accounts_with_balances(as_of=MARCH_END).get(pk=eur.cash.pk)
        assert annotated.balance_micros == 300_000
        report = trial_balance(as_of=MARCH_END)
        assert report.balanced
        assert report.as_of == MARCH_END
        assert {line.code: line.balance_micros for line in report.lines} == {
            "creator:ada-eur:payable:eur": -270_000,
            "platform:commission:eur": -30_000,
            "platform:stripe_balance:eur": 300_000,
        }

    def test_entries_between_two_business_times_make_the_closing_balance(self, eur: Books) -> None:
        _sale(eur, "jan", 1_000, datetime(2026, 1, 15, tzinfo=UTC))
        _sale(eur, "today", 7_000, None)
        _sale(eur, "march-b", 300, MARCH_1 + timedelta(days=2))
        _sale(eur, "march-a", 200, MARCH_1)  # posted later, effective earlier
        _sale(eur, "april", 50, MARCH_END + timedelta(microseconds=1))

        page = account_entries(eur.cash, since=FEBRUARY_END, until=MARCH_END)

        # Oldest business time first, whatever order they were posted in.
        assert [entry.amount_micros for entry in page.entries] == [200, 300]
        opening = account_balance(eur.cash, as_of=FEBRUARY_END)
        closing = account_balance(eur.cash, as_of=MARCH_END)
        assert (opening, closing) == (1_000, 1_500)
        assert opening + sum(entry.amount_micros for entry in page.entries) == closing
        pages, cursor = [], None
        while True:
            page = account_entries(eur.cash, cursor=cursor, limit=2)
            pages.append([entry.amount_micros for entry in page.entries])
            if not page.has_more:
                break
            cursor = page.next_cursor
        assert pages == [[1_000, 200], [300, 50], [7_000]]

    def test_entries_carry_their_transactions_business_time(self, eur: Books) -> None:
        one = _sale(eur, "one", 100, MARCH_1)
        batch = transactions_post_many(
            postings=[
                Posting(f"b-{index}", "sale", eur.sale(100, 10), effective_at=MARCH_END)
                for index in range(3)
            ]
        )
        for row in [one, *batch]:
            stored = Transaction.objects.get(pk=row.pk)
            assert stored.effective_at == row.effective_at
            assert set(row.entries.values_list("effective_at", flat=True)) == {row.effective_at}

    def test_another_time_zone_is_the_same_moment(self, eur: Books) -> None:
        paris = datetime(2026, 3, 1, 1, 0, tzinfo=ZoneInfo("Europe/Paris"))  # 00:00 UTC
        row = _sale(eur, "paris", 100, paris)
        assert row.effective_at == MARCH_1
        assert row.effective_at.tzinfo == UTC
        assert Transaction.objects.get(pk=row.pk).effective_at == MARCH_1


@pytest.mark.parametrize("effective_at", [datetime(2026, 3, 1), date(2026, 3, 1), "2026-03-01"])
class TestRefused:
    def test_a_naive_or_non_datetime_business_time_is_refused(
        self, eur: Books, effective_at: object
    ) -> None:
        with pytest.raises(LedgerError) as caught:
            _sale(eur, "naive", 100, effective_at)
        assert (caught.value.code, caught.value.param) == ("effective_at_invalid", "effective_at")
        assert _written() == (0, 0)

    def test_in_a_batch_it_rejects_the_batch_and_names_the_index(
        self, eur: Books, effective_at: object
    ) -> None:
        postings = [Posting(f"b-{index}", "sale", eur.sale(100, 10)) for index in range(70)]
        postings[65] = Posting("b-65", "sale", eur.sale(100, 10), effective_at=effective_at)
        for batch in ([*postings[:3], postings[65]], postings):  # INSERT, then COPY on PG
            with pytest.raises(LedgerError) as caught:
                transactions_post_many(postings=batch)
            assert caught.value.code == "effective_at_invalid"
            assert caught.value.details[0]["index"] == (3 if len(batch) == 4 else 65)
        assert _written() == (0, 0)

    def test_a_reversal_refuses_it_too(self, eur: Books, effective_at: object) -> None:
        sale = _sale(eur, "s", 100, None)
        with pytest.raises(LedgerError) as caught:
            transaction_reverse(transaction=sale, effective_at=effective_at)
        assert caught.value.code == "effective_at_invalid"
        assert _written() == (1, 3)


class TestReplay:
    def test_a_replay_returns_the_original_whatever_business_time_it_names(
        self, eur: Books
    ) -> None:
        first = _sale(eur, "s", 100, MARCH_1)
        for again_at in (None, MARCH_END, MARCH_1):
            again = _sale(eur, "s", 100, again_at)
            assert (again.pk, again.effective_at) == (first.pk, MARCH_1)
        assert _written() == (1, 3)
        assert account_balance(eur.cash, as_of=FEBRUARY_END) == 0

    @pytest.mark.parametrize("count", [3, bulk.COPY_BATCH_SIZE_MIN])
    def test_a_batch_replay_returns_the_originals(self, eur: Books, count: int) -> None:
        def batch(effective_at: datetime) -> list[Posting]:
            return [
                Posting(f"b-{index}", "sale", eur.sale(100, 10), effective_at=effective_at)
                for index in range(count)
            ]

        first = transactions_post_many(postings=batch(MARCH_1))
        again = transactions_post_many(postings=batch(MARCH_END))
        assert [(row.pk, row.effective_at) for row in again] == [(row.pk, MARCH_1) for row in first]
        assert _written() == (count, 3 * count)

    def test_a_key_twice_in_one_batch_keeps_the_first_business_time(self, eur: Books) -> None:
        rows = transactions_post_many(
            postings=[
                Posting("k", "sale", eur.sale(100, 10), effective_at=MARCH_1),
                Posting("k", "sale", eur.sale(100, 10), effective_at=MARCH_END),
            ]
        )
        assert rows[0].pk == rows[1].pk
        assert Transaction.objects.get(idempotency_key="k").effective_at == MARCH_1

    def test_a_reversal_is_effective_now_unless_told(self, eur: Books) -> None:
        sale = _sale(eur, "s", 100, MARCH_1)
        reversal = transaction_reverse(transaction=sale)
        assert reversal.effective_at > MARCH_END
        assert account_balance(eur.cash, as_of=MARCH_END) == 100
        other = _sale(eur, "t", 100, MARCH_1)
        voided = transaction_reverse(transaction=other, effective_at=other.effective_at)
        assert voided.effective_at == MARCH_1
        assert account_balance(eur.cash, as_of=MARCH_END) == 100


class TestSealed:
    def test_backdated_postings_seal_and_verify(self, eur: Books) -> None:
        _sale(eur, "a", 100, MARCH_1)
        _sale(eur, "b", 100, None)
        blocks_seal()
        report = chain_verify()
        assert report.ok, report.problems
        assert report.transactions_sealed == 2

    @pytest.mark.postgres
    @pytest.mark.parametrize("table", ["ledger_transaction", "ledger_entry", "both"])
    def test_a_changed_business_time_is_found(self, eur: Books, table: str) -> None:
        _sale(eur, "a", 100, None)
        moved = _sale(eur, "b", 100, MARCH_1)
        blocks_seal()
        assert chain_verify().ok
        day_later = "effective_at + interval '1 day'"
        if table in ("ledger_transaction", "both"):
            _tamper(f"UPDATE ledger_transaction SET effective_at = {day_later} WHERE id = %s",
                    [moved.pk])  # fmt: skip
        if table in ("ledger_entry", "both"):
            _tamper(f"UPDATE ledger_entry SET effective_at = {day_later} WHERE transaction_id = %s",
                    [moved.pk])  # fmt: skip

        report = chain_verify()

        assert report.first_bad_block == 1
        assert "content does not match its seal" in report.problems[0]
        mismatch = f"its transaction {moved.pk} at"
        assert (mismatch in " ".join(report.problems)) == (table != "both")

    @pytest.mark.postgres
    def test_moving_a_business_time_onto_the_posting_time_is_found(self, eur: Books) -> None:
        moved = _sale(eur, "b", 100, MARCH_1)
        blocks_seal()
        _tamper("UPDATE ledger_transaction SET effective_at = created_at WHERE id = %s", [moved.pk])
        _tamper("UPDATE ledger_entry SET effective_at = created_at WHERE transaction_id = %s",
                [moved.pk])  # fmt: skip
        assert chain_verify().first_bad_block == 1
