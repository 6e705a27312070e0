"""Payout batches: the draft, four-eyes approval, dispatch, retries of failed items.

The transfers themselves are made by `payouts.services.payout_dispatch`, chunk by
chunk, in Celery jobs that this module enqueues (after commit, so a job never looks
for a batch that is not there yet).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ledger.errors import LedgerError
from ledger.money import currency_validate
from licensing.currencies import currency_is_supported
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import PayoutBatch, PayoutBatchApproval, PayoutItem
from payouts.selectors.payout_batches import batch_progress, payout_candidates

ITEMS_PER_BATCH_MAX = 100_000


def _currency(currency: object) -> str:
    try:
        code = currency_validate(currency) if isinstance(currency, str) else ""
    except LedgerError:
        code = ""
    if not code or not currency_is_supported(code):
        raise PayoutError(
            PayoutErrorCode.CURRENCY_UNSUPPORTED,
            f"Currency {currency!r} is not one Accord pays out in.",
            param="currency",
        )
    return code


def payout_batch_create(*, currency: str, user: Any = None) -> PayoutBatch:
    """Draft a batch of every eligible creator; list the others in `skipped`."""
    currency = _currency(currency)
    candidates = payout_candidates(currency=currency)
    eligible = [c for c in candidates if c.skip_reason is None][:ITEMS_PER_BATCH_MAX]
    skipped = [
        {"creator": c.creator.public_id, "amount": c.amount, "reason": c.skip_reason}
        for c in candidates
        if c.skip_reason is not None
    ]
    try:
        with transaction.atomic():
            batch = PayoutBatch.objects.create(
                currency=currency,
                total=sum(c.amount for c in eligible),
                items_count=len(eligible),
                skipped=skipped,
                created_by=user,
            )
            PayoutItem.objects.bulk_create(
                [
                    PayoutItem(
                        batch=batch,
                        creator=c.creator,
                        stripe_account_id=c.stripe_account_id,
                        currency=currency,
                        amount=c.amount,
                    )
                    for c in eligible
                ],
                batch_size=2000,
            )
    except IntegrityError:
        # A concurrent draft took some of these creators first (one open item each).
        raise PayoutError(
            PayoutErrorCode.CREATOR_IN_OPEN_BATCH,
            "Another batch being drafted now holds some of these creators; try again.",
        ) from None
    return batch


def _locked(batch: PayoutBatch) -> PayoutBatch:
    return PayoutBatch.objects.select_for_update().get(pk=batch.pk)


def payout_batch_approve(*, batch: PayoutBatch, user: Any) -> PayoutBatch:
    """Approve a draft; above PAYOUT_SECOND_APPROVAL_ABOVE it takes two different users."""
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status != PayoutBatch.Status.DRAFT:
            raise PayoutError(
                PayoutErrorCode.BATCH_NOT_DRAFT,
                f"Only a draft can be approved; this batch is {batch.status}.",
            )
        if batch.approvals.filter(user=user).exists():
            raise PayoutError(
                PayoutErrorCode.SECOND_APPROVER_REQUIRED,
                "You approved this batch already; a different finance user must approve it.",
            )
        PayoutBatchApproval.objects.create(batch=batch, user=user)
        needed = 2 if batch.total > settings.PAYOUT_SECOND_APPROVAL_ABOVE else 1
        if batch.approvals.count() >= needed:
            batch.status = PayoutBatch.Status.APPROVED
            batch.save(update_fields=["status"])
    return batch


def _fan_out_enqueue(batch: PayoutBatch) -> None:
    # Imported here: the tasks module imports these services (a cycle at import time).
    from payouts.tasks import payout_batch_fan_out_task

    transaction.on_commit(lambda: payout_batch_fan_out_task.delay(batch.pk))


def payout_batch_dispatch(*, batch: PayoutBatch) -> PayoutBatch:
    """Start (or nudge) the transfers of an approved batch; twice is harmless.

    A batch already dispatching gets its open items enqueued again: the items'
    state machine and Stripe's idempotency make that a no-op for items in hand, and
    it recovers items whose job gave up.
    """
    with transaction.atomic():
        batch = _locked(batch)
        if batch.status in (PayoutBatch.Status.DRAFT,):
            raise PayoutError(
                PayoutErrorCode.BATCH_NOT_APPROVED,
                "The batch must be approved before it is dispatched.",
            )
        if batch.status == PayoutBatch.Status.APPROVED:
            batch.status = PayoutBatch.Status.DISPATCHING
            batch.dispatched_at = timezone.now()
            batch.save(update_fields=["status", "dispatched_at"])
        if batch.status == PayoutBatch.Status.DISPATCHING:
            _fan_out_enqueue(batch)
    return batch


def payout_batch_complete_check(*, batch_id: int) -> PayoutBatch:
    """Close a dispatching batch once no item is open: completed, or with failures."""
    # Every job asks when it ends; while items are open (nearly always) the answer is
    # one index probe, without queueing on the batch's row lock behind the others.
    if PayoutItem.objects.filter(batch_id=batch_id, status__in=PayoutItem.OPEN_STATUSES).exists():
        return PayoutBatch.objects.get(pk=batch_id)
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
        if batch.status != PayoutBatch.Status.DISPATCHING:
            return batch
        progress = batch_progress(batch=batch)
        if progress.open_count:
            return batch
        failed = progress.counts.get(PayoutItem.Status.FAILED, 0)
        batch.status = (
            PayoutBatch.Status.COMPLETED_WITH_FAILURES if failed else PayoutBatch.Status.COMPLETED
        )
        batch.completed_at = timezone.now()
        batch.save(update_fields=["status", "completed_at"])
    return batch


def payout_item_retry(*, item: PayoutItem) -> PayoutItem:
    """Send a failed item again (its money went back to payable when it failed, or never
    left it: `payable_insufficient`, which its next claim checks again)."""
    try:
        with transaction.atomic():
            item = PayoutItem.objects.select_for_update().get(pk=item.pk)
            if item.status != PayoutItem.Status.FAILED:
                raise PayoutError(
                    PayoutErrorCode.ITEM_NOT_FAILED,
                    f"Only a failed item can be retried; this one is {item.status}.",
                )
            if (
                PayoutItem.objects.filter(
                    creator_id=item.creator_id, currency=item.currency, id__gt=item.id
                )
                .exclude(status=PayoutItem.Status.FAILED)
                .exists()
            ):
                # A later batch took the money this item gave back to payable.
                raise PayoutError(
                    PayoutErrorCode.ITEM_SUPERSEDED,
                    "A later batch has already taken this creator's money.",
                )
            item.status = PayoutItem.Status.PENDING
            item.submissions += 1
            item.updated_at = timezone.now()
            item.save(update_fields=["status", "submissions", "updated_at"])
            batch = _locked(item.batch)
            batch.status = PayoutBatch.Status.DISPATCHING
            batch.completed_at = None
            batch.save(update_fields=["status", "completed_at"])
            _fan_out_enqueue(batch)
    except IntegrityError:
        raise PayoutError(
            PayoutErrorCode.CREATOR_IN_OPEN_BATCH,
            "The creator is in another open batch, which will pay this money.",
        ) from None
    return item
