"""ledger.selectors and checkpoints: balances at any time, entry pages, the trial balance."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.errors import DomainError
from ledger.checkpoints import balance_checkpoints_write
from ledger.errors import LedgerError
from ledger.models import BalanceCheckpoint, CheckpointRun, Transaction
from ledger.selectors import (
    account_balance,
    account_entries,
    account_get,
    accounts_of_owner,
    accounts_with_balances,
    seal_state,
    transaction_get,
    transactions_of_reference,
    trial_balance,
)
from ledger.services import Leg, transaction_post
from tests.ledger.conftest import Books

pytestmark = pytest.mark.django_db


def _sales(books: Books, amounts: list[int], prefix: str = "s") -> list[Transaction]:
    return [
        transaction_post(
            idempotency_key=f"{prefix}-{index}",
            kind="sale",
            legs=books.sale(amount, amount // 5),
            reference=f"license:{prefix}",
        )
        for index, amount in enumerate(amounts)
    ]


class TestBalance:
    def test_now_and_as_of_each_posting(self, eur: Books) -> None:
        posted = _sales(eur, [1_000_000, 2_000_000, 3_000_000])

        assert account_balance(eur.cash) == 6_000_000
        assert account_balance(eur.payable) == -4_800_000
        assert account_balance(eur.commission) == -1_200_000
        for as_of in ("effective_at", "created_at"):  # posted now: the clocks agree
            assert [account_balance(eur.cash, as_of=getattr(row, as_of)) for row in posted] == [
                1_000_000,
                3_000_000,
                6_000_000,
            ]
        before = posted[0].effective_at - timedelta(microseconds=1)
        assert account_balance(eur.cash, as_of=before) == 0
        recorded_before = posted[0].created_at - timedelta(microseconds=1)
        assert account_balance(eur.cash, recorded_as_of=recorded_before) == 0

    @pytest.mark.parametrize("entries_every", [1, 2, 1_000])
    def test_checkpoints_change_no_answer(self, eur: Books, entries_every: int) -> None:
        first = _sales(eur, [100, 200, 300, 400, 500], prefix="a")
        balance_checkpoints_write(entries_every=entries_every)
        second = _sales(eur, [1_000, 2_000], prefix="b")
        balance_checkpoints_write(entries_every=entries_every)
        third = _sales(eur, [7], prefix="c")

        expected = 0
        for row in [*first, *second, *third]:
            expected += row.entries.get(account=eur.cash).amount_micros
            assert account_balance(eur.cash, recorded_as_of=row.created_at) == expected
            assert account_balance(eur.cash, as_of=row.effective_at) == expected
        assert account_balance(eur.cash) == expected == 4_507
        assert account_balance(eur.commission) == -(20 + 40 + 60 + 80 + 100 + 200 + 400 + 1)

    def test_a_balance_read_is_one_query(
        self, eur: Books, django_assert_num_queries: object
    ) -> None:
        posted = _sales(eur, [5, 6, 7])  # cash +5, +6, +7
        balance_checkpoints_write()
        with django_assert_num_queries(1):
            assert account_balance(eur.cash) == 18
        with django_assert_num_queries(1):
            assert account_balance(eur.cash, as_of=posted[1].effective_at) == 11
        with django_assert_num_queries(1):
            assert account_balance(eur.cash, recorded_as_of=posted[1].created_at) == 11
        with django_assert_num_queries(1):
            both = {"as_of": posted[2].effective_at, "recorded_as_of": posted[1].created_at}
            assert account_balance(eur.cash, **both) == 11

    def test_balances_of_many_accounts_in_one_query(
        self, eur: Books, django_assert_num_queries: object
    ) -> None:
        posted = _sales(eur, [10_000, 20_000])
        balance_checkpoints_write()
        _sales(eur, [30_000], prefix="later")
        with django_assert_num_queries(1):
            now = {account.code: account.balance_micros for account in accounts_with_balances()}
        assert now == {
            "platform:stripe_balance:eur": 60_000,
            "platform:commission:eur": -12_000,
            "creator:ada-eur:payable:eur": -48_000,
            "creator:ben-eur:payable:eur": 0,
        }
        then = accounts_with_balances(as_of=posted[0].effective_at).get(pk=eur.cash.pk)
        assert then.balance_micros == 10_000
        recorded = accounts_with_balances(recorded_as_of=posted[0].created_at)
        assert recorded.get(pk=eur.cash.pk).balance_micros == 10_000


class TestCheckpoints:
    def test_one_checkpoint_per_moved_account_at_the_horizon(self, eur: Books) -> None:
        _sales(eur, [100, 200])
        summary = balance_checkpoints_write()

        assert (summary.accounts, summary.checkpoints) == (3, 3)
        run = CheckpointRun.objects.get()
        assert run.horizon_at == summary.horizon_at
        cash = BalanceCheckpoint.objects.get(account=eur.cash)
        assert (cash.as_of, cash.balance_micros, cash.entry_count) == (run.horizon_at, 300, 2)

    def test_nothing_new_writes_nothing(self, eur: Books) -> None:
        _sales(eur, [100])
        balance_checkpoints_write()
        again = balance_checkpoints_write()
        assert again.skipped == "nothing posted since the last run"
        assert BalanceCheckpoint.objects.count() == 3

    def test_only_accounts_that_moved_get_a_new_checkpoint(self, eur: Books) -> None:
        _sales(eur, [100])
        balance_checkpoints_write()
        transaction_post(
            idempotency_key="transfer",
            kind="transfer",
            legs=[Leg(eur.payable, 50), Leg(eur.other_payable, -50)],
        )
        summary = balance_checkpoints_write()
        assert (summary.accounts, summary.checkpoints) == (2, 2)
        newest = BalanceCheckpoint.objects.filter(account=eur.payable).latest("as_of")
        assert (newest.balance_micros, newest.entry_count) == (-30, 2)

    def test_busy_accounts_get_a_checkpoint_every_n_entries(self, eur: Books) -> None:
        _sales(eur, [10, 20, 30, 40, 50, 60, 70])
        balance_checkpoints_write(entries_every=3)
        cash = list(
            BalanceCheckpoint.objects.filter(account=eur.cash)
            .order_by("as_of")
            .values_list("balance_micros", "entry_count")
        )
        assert cash == [(60, 3), (210, 6), (280, 7)]


class TestEntries:
    def test_window_is_after_since_and_up_to_until(self, eur: Books) -> None:
        posted = _sales(eur, [10, 20, 30, 40])
        page = account_entries(eur.cash, since=posted[0].effective_at, until=posted[2].effective_at)
        assert [entry.amount_micros for entry in page.entries] == [20, 30]
        assert (page.has_more, page.next_cursor) == (False, None)

    def test_pages_follow_each_other_without_gaps(
        self, eur: Books, django_assert_num_queries: object
    ) -> None:
        _sales(eur, [10 * amount for amount in range(1, 8)])
        seen, cursor = [], None
        while True:
            with django_assert_num_queries(1):
                page = account_entries(eur.cash, cursor=cursor, limit=3)
            seen += [(entry.amount_micros, entry.transaction.kind) for entry in page.entries]
            if not page.has_more:
                break
            cursor = page.next_cursor
        assert seen == [(10 * amount, "sale") for amount in range(1, 8)]

    @pytest.mark.parametrize("limit", [0, 1_001])
    def test_limit_is_bounded(self, eur: Books, limit: int) -> None:
        with pytest.raises(LedgerError) as caught:
            account_entries(eur.cash, limit=limit)
        assert caught.value.code == "field_invalid"

    def test_a_bad_cursor_is_refused(self, eur: Books) -> None:
        with pytest.raises(DomainError) as caught:
            account_entries(eur.cash, cursor="not-a-cursor")
        assert caught.value.code == "invalid_cursor"


class TestTrialBalance:
    def test_debits_equal_credits_in_each_currency(self, eur: Books, usd: Books) -> None:
        _sales(eur, [1_000_000, 500_000])
        balance_checkpoints_write()
        _sales(usd, [250_000], prefix="u")

        report = trial_balance()
        assert report.balanced
        assert {c: (t.debit_micros, t.credit_micros) for c, t in report.totals.items()} == {
            "eur": (1_500_000, 1_500_000),
            "usd": (250_000, 250_000),
        }
        assert [(line.code, line.balance_micros) for line in report.lines] == [
            ("creator:ada-eur:payable:eur", -1_200_000),
            ("platform:commission:eur", -300_000),
            ("platform:stripe_balance:eur", 1_500_000),
            ("creator:ada-usd:payable:usd", -200_000),
            ("platform:commission:usd", -50_000),
            ("platform:stripe_balance:usd", 250_000),
        ]

    def test_zero_lines_on_request_and_as_of(self, eur: Books) -> None:
        posted = _sales(eur, [100, 200])
        report = trial_balance(as_of=posted[0].effective_at, include_zero=True)
        assert {line.code: line.balance_micros for line in report.lines} == {
            "creator:ada-eur:payable:eur": -80,
            "creator:ben-eur:payable:eur": 0,
            "platform:commission:eur": -20,
            "platform:stripe_balance:eur": 100,
        }


class TestLookups:
    def test_account_and_transaction_lookups(self, eur: Books) -> None:
        posted = _sales(eur, [10])
        assert account_get(code="platform:commission:eur") == eur.commission
        with pytest.raises(LedgerError) as caught:
            account_get(code="nope")
        assert caught.value.code == "account_not_found"
        assert accounts_of_owner(owner_type="creator", owner_id="ada-eur") == [eur.payable]
        assert transaction_get(idempotency_key="s-0") == posted[0]
        assert transaction_get(idempotency_key="missing") is None
        assert transactions_of_reference(reference="license:s") == posted

    def test_seal_state_before_any_seal(self, eur: Books) -> None:
        _sales(eur, [10, 20])
        state = seal_state()
        assert (state.blocks, state.last_transaction_id, state.unsealed_transactions) == (0, 0, 2)
