"""Random sequences of postings, reversals, replays, checkpoints and seals.

A hypothesis state machine drives the real services and keeps its own model of the
books; after every step it checks the invariants the ledger promises:
every transaction balances per currency, all balances sum to zero per currency,
replays change nothing, and an account's balance as of any business time (postings
are backdated and postdated at random) and as recorded at any posting time equals
the sum of its entries up to then. On PostgreSQL the database's own deferred checks are
fired after every step too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger import bulk
from ledger.checkpoints import balance_checkpoints_write
from ledger.errors import LedgerError
from ledger.models import Account, Entry, Transaction
from ledger.sealing import blocks_seal, chain_verify
from ledger.selectors import account_balance, trial_balance
from ledger.services import (
    Leg,
    Posting,
    owner_accounts_open,
    transaction_post,
    transaction_reverse,
    transactions_post_many,
)
from tests.ledger.conftest import deferred_checks_run

amounts = st.integers(min_value=1, max_value=10**12)
# Business times: the posting time (None), or days before or after a fixed moment.
_BASE = datetime(2026, 6, 1, tzinfo=UTC)
business_times = st.one_of(
    st.none(), st.integers(min_value=-400, max_value=400).map(lambda d: _BASE + timedelta(d))
)


class LedgerMachine(RuleBasedStateMachine):
    posted = Bundle("posted")

    def __init__(self) -> None:
        super().__init__()
        # Each example runs in a savepoint rolled back at teardown: a clean ledger.
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        run = uuid.uuid4().hex[:8]
        self.accounts: dict[str, list[Account]] = {}
        for currency in ("eur", "usd"):
            opened = owner_accounts_open(
                owner_type="machine",
                owner_id=run,
                currency=currency,
                accounts={"cash": "asset", "payable": "liability", "revenue": "revenue"},
            )
            self.accounts[currency] = list(opened.values())
        self.legs_by_key: dict[str, list[tuple[Account, int]]] = {}
        self.rows: dict[str, Transaction] = {}
        self.reversed: list[Transaction] = []
        self.counter = 0

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    def _new_key(self) -> str:
        self.counter += 1
        return f"key-{self.counter}"

    def _record(self, key: str, row: Transaction, legs: list[tuple[Account, int]]) -> None:
        self.rows[key] = row
        self.legs_by_key[key] = legs

    @rule(target=posted, data=st.data(), effective_at=business_times)
    def post(self, data: st.DataObject, effective_at: datetime | None) -> str:
        legs = self._random_legs(data)
        key = self._new_key()
        row = transaction_post(
            idempotency_key=key,
            kind="sale",
            legs=[Leg(a, amount) for a, amount in legs],
            effective_at=effective_at,
        )
        if effective_at is not None:
            assert row.effective_at == effective_at
        self._record(key, row, legs)
        return key

    def _random_legs(self, data: st.DataObject) -> list[tuple[Account, int]]:
        legs: list[tuple[Account, int]] = []
        for currency in data.draw(st.sampled_from([["eur"], ["usd"], ["eur", "usd"]])):
            accounts = self.accounts[currency]
            for _ in range(data.draw(st.integers(min_value=1, max_value=3))):
                sign = data.draw(st.sampled_from([1, -1]))
                legs.append((data.draw(st.sampled_from(accounts)), sign * data.draw(amounts)))
            closing = -sum(amount for account, amount in legs if account.currency == currency)
            if closing:  # already zero with two or more legs: nothing to close
                legs.append((data.draw(st.sampled_from(accounts)), closing))
        return legs

    @rule(
        data=st.data(),
        size=st.sampled_from([2, 3, bulk.COPY_BATCH_SIZE_MIN]),
        effective_at=business_times,
    )
    def post_many(self, data: st.DataObject, size: int, effective_at: datetime | None) -> None:
        """A batch: small ones take the INSERT statement, large ones COPY."""
        template = self._random_legs(data)
        keys = [self._new_key() for _ in range(size)]
        legs = [Leg(a, amount) for a, amount in template]
        rows = transactions_post_many(
            postings=[
                # Every other posting names the business time, the rest default to now.
                Posting(key, "sale", legs, effective_at=effective_at if index % 2 else None)
                for index, key in enumerate(keys)
            ]
        )
        for key, row in zip(keys, rows, strict=True):
            self._record(key, row, template)

    @rule(key=posted, effective_at=business_times)
    def replay(self, key: str, effective_at: datetime | None) -> None:
        """A replay returns the original, whatever business time it names."""
        before = (Transaction.objects.count(), Entry.objects.count())
        legs = self.legs_by_key[key]
        row = self.rows[key]
        if row.reverses_id is not None:
            again = transaction_reverse(
                transaction=Transaction.objects.get(pk=row.reverses_id), idempotency_key=key
            )
        else:
            again = transaction_post(
                idempotency_key=key,
                kind="sale",
                legs=[Leg(a, amount) for a, amount in legs],
                effective_at=effective_at,
            )
        assert (again.pk, again.effective_at) == (row.pk, row.effective_at)
        assert (Transaction.objects.count(), Entry.objects.count()) == before

    @rule(key=posted, extra=amounts)
    def replay_with_other_content(self, key: str, extra: int) -> None:
        before = (Transaction.objects.count(), Entry.objects.count())
        eur = self.accounts["eur"]
        with pytest.raises(LedgerError) as caught:
            transaction_post(
                idempotency_key=key, kind="other", legs=[Leg(eur[0], extra), Leg(eur[1], -extra)]
            )
        assert caught.value.code == "idempotency_key_conflict"
        assert (Transaction.objects.count(), Entry.objects.count()) == before

    @rule(amount=amounts)
    def post_unbalanced(self, amount: int) -> None:
        eur = self.accounts["eur"]
        before = (Transaction.objects.count(), Entry.objects.count())
        with pytest.raises(LedgerError) as caught:
            transaction_post(
                idempotency_key=self._new_key(),
                kind="bad",
                legs=[Leg(eur[0], amount), Leg(eur[1], -amount - 1)],
            )
        assert caught.value.code == "unbalanced"
        assert (Transaction.objects.count(), Entry.objects.count()) == before

    @rule(target=posted, key=consumes(posted))
    def reverse(self, key: str) -> str:
        row = self.rows[key]
        reversal_key = self._new_key()
        reversal = transaction_reverse(transaction=row, idempotency_key=reversal_key)
        self.reversed.append(row)
        self._record(reversal_key, reversal, [(a, -amount) for a, amount in self.legs_by_key[key]])
        return reversal_key

    @precondition(lambda self: self.reversed)
    @rule(data=st.data())
    def reverse_again(self, data: st.DataObject) -> None:
        row = data.draw(st.sampled_from(self.reversed))
        before = Transaction.objects.count()
        with pytest.raises(LedgerError) as caught:
            transaction_reverse(transaction=row, idempotency_key=self._new_key())
        assert caught.value.code == "already_reversed"
        assert Transaction.objects.count() == before

    @rule(every=st.integers(min_value=1, max_value=4))
    def checkpoint(self, every: int) -> None:
        assert not balance_checkpoints_write(entries_every=every).skipped.startswith("postings")

    @rule()
    def seal(self) -> None:
        blocks_seal()
        report = chain_verify()
        assert report.ok, report.problems

    def _expected(
        self,
        account: Account,
        as_of: datetime | None = None,
        recorded_as_of: datetime | None = None,
    ) -> int:
        return sum(
            amount
            for key, legs in self.legs_by_key.items()
            if as_of is None or self.rows[key].effective_at <= as_of
            if recorded_as_of is None or self.rows[key].created_at <= recorded_as_of
            for leg_account, amount in legs
            if leg_account.pk == account.pk
        )

    @invariant()
    def every_transaction_balances(self) -> None:
        deferred_checks_run()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT transaction_id FROM ledger_entry GROUP BY transaction_id, currency"
                " HAVING SUM(amount_micros) <> 0"
            )
            assert cursor.fetchall() == []
        assert Transaction.objects.count() == len(self.rows)

    @invariant()
    def balances_sum_to_zero_per_currency_and_match_the_model(self) -> None:
        report = trial_balance(include_zero=True)
        totals: dict[str, int] = defaultdict(int)
        for line in report.lines:
            totals[line.currency] += line.balance_micros
        assert all(total == 0 for total in totals.values()), totals
        assert report.balanced
        for accounts in self.accounts.values():
            for account in accounts:
                assert account_balance(account) == self._expected(account)

    @staticmethod
    def _probes(times: set[datetime]) -> set[datetime | None]:
        """The first, a middle and the last of these times, just before the first, and None."""
        ordered = sorted(times)
        if not ordered:
            return {None}
        first, middle, last = ordered[0], ordered[len(ordered) // 2], ordered[-1]
        return {None, first - timedelta(microseconds=1), first, middle, last}

    @invariant()
    def balance_as_of_equals_entries_up_to_then(self) -> None:
        business = self._probes({row.effective_at for row in self.rows.values()})
        recorded = self._probes({row.created_at for row in self.rows.values()})
        for as_of in business:
            for recorded_as_of in recorded:
                for account in self.accounts["eur"]:
                    expected = self._expected(account, as_of, recorded_as_of)
                    read = account_balance(account, as_of=as_of, recorded_as_of=recorded_as_of)
                    assert read == expected, (as_of, recorded_as_of)
            report = trial_balance(as_of=as_of, include_zero=True)
            assert report.balanced


@pytest.mark.django_db
def test_random_books_keep_their_invariants() -> None:
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
