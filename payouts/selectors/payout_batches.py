"""Reads of payout batches: who is eligible, counts and amounts by status, item lists."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, QuerySet, Sum

from ledger.models import Account
from ledger.money import micros_to_minor, round_down_to_minor
from ledger.selectors import accounts_with_balances
from licensing.accounts import CREATOR_OWNER_TYPE
from licensing.models import Creator
from payouts.models import PayoutBatch, PayoutItem

SKIP_IN_OPEN_BATCH = "in_open_batch"
SKIP_ON_HOLD = "on_hold"
SKIP_NOT_ENABLED = "payouts_not_enabled"
SKIP_BELOW_MINIMUM = "below_minimum"


@dataclass(frozen=True)
class Candidate:
    """A creator owed money in the currency: what a payout would be, or why not."""

    creator: Creator
    owed_micros: int  # what the payable account holds (positive: owed to the creator)
    amount: int  # rounded down to the minor unit
    stripe_account_id: str
    skip_reason: str | None


def payout_minimum(currency: str) -> int:
    """The smallest payout in the currency, in minor units."""
    return settings.PAYOUT_MINIMUM_BY_CURRENCY.get(currency, settings.PAYOUT_MINIMUM)


def _skip_reason(creator: Creator, amount: int, minimum: int, open_ids: set[int]) -> str | None:
    if creator.pk in open_ids:
        return SKIP_IN_OPEN_BATCH
    if hasattr(creator, "payout_hold"):
        return SKIP_ON_HOLD
    account = getattr(creator, "payout_account", None)
    if account is None or not account.ready:
        return SKIP_NOT_ENABLED
    if amount < minimum:
        return SKIP_BELOW_MINIMUM
    return None


def payout_candidates(*, currency: str) -> list[Candidate]:
    """Every creator whose payable account in `currency` holds money, in creator order.

    Three queries whatever the number of creators: the payables with their balances,
    the creators (with account and hold), and who already has an open item.
    """
    payables = accounts_with_balances(
        Account.objects.filter(
            owner_type=CREATOR_OWNER_TYPE, currency=currency, code__endswith=f":payable:{currency}"
        )
    ).filter(balance_micros__lt=0)
    owed = {row.owner_id: -row.balance_micros for row in payables}
    creators = Creator.objects.filter(public_id__in=list(owed)).select_related(
        "payout_account", "payout_hold"
    )
    open_ids = set(
        PayoutItem.objects.filter(
            currency=currency, status__in=PayoutItem.OPEN_STATUSES
        ).values_list("creator_id", flat=True)
    )
    minimum = payout_minimum(currency)
    candidates = []
    for creator in sorted(creators, key=lambda c: c.pk):
        owed_micros = owed[creator.public_id]
        payable = round_down_to_minor(owed_micros, currency).payable_micros
        amount = micros_to_minor(payable, currency)
        account = getattr(creator, "payout_account", None)
        candidates.append(
            Candidate(
                creator=creator,
                owed_micros=owed_micros,
                amount=amount,
                stripe_account_id=account.stripe_account_id if account else "",
                skip_reason=_skip_reason(creator, amount, minimum, open_ids),
            )
        )
    return candidates


@dataclass(frozen=True)
class BatchProgress:
    counts: dict[str, int]
    amounts: dict[str, int]

    @property
    def open_count(self) -> int:
        return sum(self.counts.get(status, 0) for status in PayoutItem.OPEN_STATUSES)

    @property
    def done_count(self) -> int:
        return sum(self.counts.values()) - self.open_count


def batch_progress(*, batch: PayoutBatch) -> BatchProgress:
    """Counts and amounts of the batch's items by status, in one query."""
    counts = {status: 0 for status in PayoutItem.Status.values}
    amounts = {status: 0 for status in PayoutItem.Status.values}
    rows = (
        PayoutItem.objects.filter(batch=batch)
        .order_by()
        .values("status")
        .annotate(count=Count("id"), amount=Sum("amount"))
    )
    for row in rows:
        counts[row["status"]] = row["count"]
        amounts[row["status"]] = row["amount"] or 0
    return BatchProgress(counts=counts, amounts=amounts)


def batches_progress(*, batch_ids: list[int]) -> dict[int, BatchProgress]:
    """`batch_progress` for many batches in one query (list pages)."""
    result = {
        batch_id: BatchProgress(
            counts=dict.fromkeys(PayoutItem.Status.values, 0),
            amounts=dict.fromkeys(PayoutItem.Status.values, 0),
        )
        for batch_id in batch_ids
    }
    rows = (
        PayoutItem.objects.filter(batch_id__in=batch_ids)
        .order_by()
        .values("batch_id", "status")
        .annotate(count=Count("id"), amount=Sum("amount"))
    )
    for row in rows:
        result[row["batch_id"]].counts[row["status"]] = row["count"]
        result[row["batch_id"]].amounts[row["status"]] = row["amount"] or 0
    return result


def payout_batches_list() -> QuerySet[PayoutBatch]:
    return PayoutBatch.objects.prefetch_related("approvals__user")


def payout_batch_get(*, public_id: str) -> PayoutBatch | None:
    return payout_batches_list().filter(public_id=public_id).first()


def payout_items_of(*, batch: PayoutBatch, status: str | None = None) -> QuerySet[PayoutItem]:
    items = PayoutItem.objects.filter(batch=batch).select_related("creator")
    if status:
        items = items.filter(status=status)
    return items.order_by("id")


def payout_items_of_creator(*, creator: Creator) -> QuerySet[PayoutItem]:
    return PayoutItem.objects.filter(creator=creator).select_related("batch").order_by("-id")


CSV_COLUMNS = (
    "item",
    "creator",
    "creator_name",
    "stripe_account",
    "amount",
    "currency",
    "status",
    "transfer",
    "failure_code",
    "attempts",
)


def payout_items_csv_rows(*, batch: PayoutBatch):
    """The batch's items as CSV rows (header first), streamed from the database."""
    yield CSV_COLUMNS
    for item in payout_items_of(batch=batch).iterator(chunk_size=2000):
        yield (
            item.public_id,
            item.creator.public_id,
            item.creator.display_name,
            item.stripe_account_id,
            item.amount,
            item.currency,
            item.status,
            item.transfer_id,
            item.failure_code,
            item.attempts,
        )
