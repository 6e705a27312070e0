"""The ledger postings of a payout item, each once, keyed from the item (MONEY.md).

- submit: payable → payouts in transit, `payout-submit:{item}` (`:{n}` for the n-th
  submission after a retried failure, whose earlier money came back by a return);
- settle: in transit → Stripe balance, `payout-settle:{item}`, when Stripe confirms;
- return: in transit (before settle) or Stripe balance (a reversal, after settle) →
  payable, `payout-return:{item}:{n}`.
"""

from __future__ import annotations

from ledger.models import Transaction
from ledger.money import minor_to_micros
from ledger.selectors import account_balance
from ledger.services import AccountRef, Leg, accounts_lock, accounts_open, transaction_post
from licensing.accounts import (
    creator_payable,
    platform_payouts_in_transit,
    platform_stripe_balance,
)
from payouts.models import PayoutItem

SUBMIT_KIND = "payout_submit"
SETTLE_KIND = "payout_settle"
RETURN_KIND = "payout_return"


def _move(
    *,
    key: str,
    kind: str,
    debit: AccountRef,
    credit: AccountRef,
    amount_micros: int,
    item: PayoutItem,
    memo: str,
) -> Transaction:
    assert amount_micros > 0, amount_micros
    accounts = accounts_open(refs=[debit, credit])
    return transaction_post(
        idempotency_key=key,
        kind=kind,
        legs=[
            Leg(accounts[debit], amount_micros, item.currency),
            Leg(accounts[credit], -amount_micros, item.currency),
        ],
        reference=f"payout-item:{item.public_id}",
        memo=memo,
    )


def _payable(item: PayoutItem) -> AccountRef:
    return creator_payable(item.creator.public_id, item.currency)


def payout_payable_lock(*, item: PayoutItem) -> int:
    """Lock the item's payable against postings that lower it; return what it owes, in micros.

    A run debiting payables (a negative adjustment) takes the same lock
    (`royalty_posting`), so the balance read here stays true until the claim commits.
    """
    ref = _payable(item)
    account = accounts_open(refs=[ref])[ref]
    accounts_lock(accounts=[account])
    return -account_balance(account)


def payout_submit_post(*, item: PayoutItem) -> Transaction:
    suffix = f":{item.submissions}" if item.submissions else ""
    return _move(
        key=f"payout-submit:{item.public_id}{suffix}",
        kind=SUBMIT_KIND,
        debit=_payable(item),
        credit=platform_payouts_in_transit(item.currency),
        amount_micros=minor_to_micros(item.amount, item.currency),
        item=item,
        memo=f"payout {item.public_id} submitted to Stripe",
    )


def payout_settle_post(*, item: PayoutItem) -> Transaction:
    return _move(
        key=f"payout-settle:{item.public_id}",
        kind=SETTLE_KIND,
        debit=platform_payouts_in_transit(item.currency),
        credit=platform_stripe_balance(item.currency),
        amount_micros=minor_to_micros(item.amount, item.currency),
        item=item,
        memo=f"payout {item.public_id} paid by transfer {item.transfer_id}",
    )


def payout_return_post(*, item: PayoutItem, amount_micros: int, settled: bool) -> Transaction:
    """Give money back to payable; `item.returns` must already count this return."""
    assert item.returns >= 1, item.returns
    source = (
        platform_stripe_balance(item.currency)
        if settled
        else platform_payouts_in_transit(item.currency)
    )
    return _move(
        key=f"payout-return:{item.public_id}:{item.returns}",
        kind=RETURN_KIND,
        debit=source,
        credit=_payable(item),
        amount_micros=amount_micros,
        item=item,
        memo=f"payout {item.public_id} {'reversed' if settled else 'failed'}: back to payable",
    )
