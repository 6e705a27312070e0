"""Sending a chunk of payout items to Stripe: one Transfer per item, exactly once.

Each item goes through two short transactions, both holding the item's row lock
(`skip_locked`: an item another worker holds is that worker's):

1. **claim** - `pending` → `submitted`, and the payable moves to "in transit"
   (`payout-submit`). Committed *before* Stripe is called, so a worker killed after
   the call leaves an item that says "Stripe may have done it". Decided under the
   payable's lock: an item asking more than the payable holds (a negative adjustment
   posted after the draft) is `failed` `payable_insufficient`, nothing posted or sent.
2. **send** - `POST /v1/transfers` with the item's idempotency key, its batch's
   `transfer_group` and the item in metadata; the answer is recorded in the same
   transaction: `paid` with the settle posting, or `failed` with the money returned.

An item whose outcome is unknown - found `submitted` (a worker died, a job gave up),
or after a 5xx or a dropped connection - is first looked for at Stripe: the batch's
transfer group listed (narrowed to the item's destination) and the item matched by
its metadata. Found: recorded as paid. Not found: sent again with the *same* key, so
even a transfer Stripe made but has not listed yet is replayed, not repeated. A 429
or a key still in use needs no look: Stripe did nothing (yet) for that request.

Every request first takes a token from the shared rate limit (`stripe_rate_limit`);
transient errors are retried in the job with exponential backoff and jitter, up to
PAYOUT_TRANSIENT_RETRIES_MAX; items still unknown after that are left `submitted`
and the job is retried later by Celery.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ledger.money import minor_to_micros
from payouts.models import PayoutItem
from payouts.services.payout_postings import (
    payout_payable_lock,
    payout_return_post,
    payout_settle_post,
    payout_submit_post,
)
from payouts.stripe import gateway
from payouts.stripe.errors import GatewayError, GatewayUnavailable
from payouts.stripe.results import Transfer
from payouts.stripe_rate_limit import stripe_request_token_take

logger = logging.getLogger("accord.payouts.dispatch")

CHUNK_SIZE_MAX = 500
METADATA_ITEM = "accord_payout_item"
METADATA_BATCH = "accord_payout_batch"
# Transient errors after which Stripe certainly did nothing for that request.
_NOT_DONE_CODES = frozenset({"rate_limit", "idempotency_key_in_use", "lock_timeout"})
# The item asks more than the creator's payable holds at claim (a negative adjustment
# posted after the draft): not sent, nothing posted; a new draft pays what is there.
PAYABLE_INSUFFICIENT = "payable_insufficient"


@dataclass
class ChunkOutcome:
    paid: int = 0
    failed: int = 0
    # Items still open here: held by another worker (theirs to finish) or unknown.
    busy: int = 0
    unknown: list[int] = field(default_factory=list)


def fan_out_chunk_size(items: int) -> int:
    """Items per job: PAYOUT_CHUNK_SIZE, smaller when that makes too few jobs.

    With 250 items in jobs of 50 on four worker processes, four jobs ran together at
    the rate limit and the fifth alone afterwards, at what one process manages: the
    dispatch ran at 82% of the limit. At least PAYOUT_FAN_OUT_CHUNKS_MIN jobs keep the
    tail to one small job.
    """
    size = max(1, min(settings.PAYOUT_CHUNK_SIZE, CHUNK_SIZE_MAX))
    spread = -(-items // max(1, settings.PAYOUT_FAN_OUT_CHUNKS_MIN))  # ceiling
    return max(1, min(size, spread))


def backoff_seconds(attempt: int) -> float:
    """Exponential backoff with jitter: half the step fixed, half random."""
    step = min(
        settings.PAYOUT_BACKOFF_MAX_SECONDS, settings.PAYOUT_BACKOFF_BASE_SECONDS * 2**attempt
    )
    return step / 2 + random.uniform(0, step / 2)


def _locked_open(item_id: int, status: str | None = None) -> PayoutItem | None:
    # `of=("self",)`: lock the item only; locking its batch row too (the join) would
    # make every other worker skip every item of the batch.
    items = PayoutItem.objects.select_for_update(skip_locked=True, of=("self",)).select_related(
        "creator", "batch"
    )
    statuses = [status] if status else list(PayoutItem.OPEN_STATUSES)
    return items.filter(pk=item_id, status__in=statuses).first()


def _refuse_insufficient(item: PayoutItem, owed_micros: int) -> None:
    item.status = PayoutItem.Status.FAILED
    item.failure_code = PAYABLE_INSUFFICIENT
    item.failure_message = (
        f"The creator's payable holds {owed_micros} micros, less than this item's "
        f"{_item_micros(item)}: a later posting lowered it. Nothing was sent; a new "
        "batch pays what it holds."
    )[:500]
    item.updated_at = timezone.now()
    item.save(update_fields=["status", "failure_code", "failure_message", "updated_at"])


def _item_claim(item_id: int) -> tuple[PayoutItem, bool] | str | None:
    """Move a pending item to submitted; return it and whether its outcome is unknown.

    `"failed"` when the payable no longer holds the item's amount (see
    `PAYABLE_INSUFFICIENT`): decided under the payable's lock, which a run's negative
    adjustment also takes, so the payable is never taken below zero by a payout.
    """
    with transaction.atomic():
        item = _locked_open(item_id)
        if item is None:
            return None
        if item.status == PayoutItem.Status.SUBMITTED:
            return item, True
        owed_micros = payout_payable_lock(item=item)
        if owed_micros < _item_micros(item):
            _refuse_insufficient(item, owed_micros)
            logger.warning("payout %s: payable holds %s micros", item.public_id, owed_micros)
            return "failed"
        payout_submit_post(item=item)
        item.status = PayoutItem.Status.SUBMITTED
        item.submitted_at = item.updated_at = timezone.now()
        item.save(update_fields=["status", "submitted_at", "updated_at"])
    # After a refusal the key changes, which Stripe allows only once it has confirmed
    # that the item has no transfer: so look first.
    return item, item.refusals > 0


def payout_item_record_paid(*, item: PayoutItem, transfer: Transfer) -> None:
    """Record Stripe's transfer for a submitted item and settle it (item row locked)."""
    assert item.status == PayoutItem.Status.SUBMITTED, item.status
    assert transfer.metadata.get(METADATA_ITEM) == item.public_id, transfer.metadata
    assert (transfer.amount, transfer.currency) == (item.amount, item.currency), transfer
    item.status = PayoutItem.Status.PAID
    item.transfer_id = transfer.id
    item.failure_code = item.failure_message = ""
    item.paid_at = item.updated_at = timezone.now()
    item.save()
    payout_settle_post(item=item)


def _record_failed(item: PayoutItem, error: GatewayError) -> None:
    item.status = PayoutItem.Status.FAILED
    item.failure_code = (error.stripe_code or str(error.code))[:64]
    item.failure_message = str(error.message)[:500]
    item.refusals += 1
    item.returns += 1
    item.updated_at = timezone.now()
    item.save()
    payout_return_post(item=item, amount_micros=_item_micros(item), settled=False)


def _item_micros(item: PayoutItem) -> int:

    return minor_to_micros(item.amount, item.currency)


def transfer_find(item: PayoutItem) -> Transfer | None:
    """Ask Stripe whether the item already has a transfer: its group, matched by metadata."""
    starting_after = None
    for _ in range(1_000):  # bounded: 100,000 transfers to one account in one batch
        stripe_request_token_take()
        page = gateway.transfers_list(
            transfer_group=item.batch.transfer_group,
            destination=item.stripe_account_id,
            starting_after=starting_after,
            network_retries=0,
        )
        for transfer in page.items:
            if transfer.metadata.get(METADATA_ITEM) == item.public_id:
                return transfer
        if not page.has_more or not page.items:
            return None
        starting_after = page.items[-1].id
    raise AssertionError("unbounded transfer list")


def _transfer_create(item: PayoutItem) -> Transfer:
    stripe_request_token_take()
    return gateway.transfer_create(
        idempotency_key=item.transfer_idempotency_key,
        destination=item.stripe_account_id,
        amount=item.amount,
        currency=item.currency,
        transfer_group=item.batch.transfer_group,
        metadata={METADATA_ITEM: item.public_id, METADATA_BATCH: item.batch.public_id},
        description=f"Accord payout {item.public_id}",
        network_retries=0,
    )


def _send_once(item_id: int, unknown: bool) -> tuple[str, bool]:
    """One try at an item: return (`paid`|`failed`|`busy`|`retry`, outcome unknown)."""
    with transaction.atomic():
        item = _locked_open(item_id, PayoutItem.Status.SUBMITTED)
        if item is None:
            return "busy", False
        try:
            existing = transfer_find(item) if unknown else None
            if existing is not None:
                payout_item_record_paid(item=item, transfer=existing)
                return "paid", False
            item.attempts += 1
            transfer = _transfer_create(item)
        except GatewayUnavailable as error:
            item.save(update_fields=["attempts"])
            logger.info("payout %s: Stripe unavailable (%s), will retry", item.public_id, error)
            return "retry", error.stripe_code not in _NOT_DONE_CODES
        except GatewayError as error:
            _record_failed(item, error)
            return "failed", False
        payout_item_record_paid(item=item, transfer=transfer)
        return "paid", False


def payout_item_send(*, item_id: int) -> str:
    """Claim and send one item, retrying transient errors; return its fate here."""
    claimed = _item_claim(item_id)
    if claimed is None:
        return "done"
    if claimed == "failed":
        return "failed"
    _, unknown = claimed
    for attempt in range(settings.PAYOUT_TRANSIENT_RETRIES_MAX + 1):
        result, unknown_now = _send_once(item_id, unknown)
        if result != "retry":
            return result
        unknown = unknown or unknown_now
        time.sleep(backoff_seconds(attempt))
    return "unknown"


def payout_items_submit(*, item_ids: Sequence[int]) -> ChunkOutcome:
    """Send a bounded chunk of items; safe to run twice, or concurrently, on the same ids."""
    assert len(item_ids) <= CHUNK_SIZE_MAX, len(item_ids)
    outcome = ChunkOutcome()
    for item_id in item_ids:
        result = payout_item_send(item_id=item_id)
        if result == "paid":
            outcome.paid += 1
        elif result == "failed":
            outcome.failed += 1
        elif result == "busy":
            outcome.busy += 1
        elif result == "unknown":
            outcome.unknown.append(item_id)
    return outcome


def payout_item_transfer_confirm(*, transfer: Transfer) -> bool:
    """Record a transfer Stripe reports (`transfer.created`) for a still-submitted item."""
    item_id = transfer.metadata.get(METADATA_ITEM)
    if not item_id:
        return False
    with transaction.atomic():
        item = (
            PayoutItem.objects.select_for_update(of=("self",))
            .select_related("creator", "batch")
            .filter(public_id=item_id)
            .first()
        )
        if item is None or item.status != PayoutItem.Status.SUBMITTED:
            return False
        payout_item_record_paid(item=item, transfer=transfer)
    return True


def payout_item_transfer_reversed(*, transfer: Transfer) -> bool:
    """Give a paid item's reversed amount back to payable (`transfer.reversed`), once."""

    with transaction.atomic():
        item = (
            PayoutItem.objects.select_for_update(of=("self",))
            .select_related("creator", "batch")
            .filter(transfer_id=transfer.id)
            .first()
        )
        if item is None or item.status not in (PayoutItem.Status.PAID, PayoutItem.Status.REVERSED):
            return False
        reversed_micros = minor_to_micros(transfer.amount_reversed, item.currency)
        delta = reversed_micros - item.returned_micros
        if delta <= 0:
            return False
        item.returns += 1
        item.returned_micros = reversed_micros
        if transfer.amount_reversed >= item.amount:
            item.status = PayoutItem.Status.REVERSED
        item.updated_at = timezone.now()
        item.save()
        payout_return_post(item=item, amount_micros=delta, settled=True)
    return True


def payout_batch_send_in_process(*, batch: Any, on_chunk: Any = None) -> Any:
    """Send an approved (or dispatching) batch here, chunk by chunk, without Celery.

    For the embedded default (no broker), the demo and `payout_dispatch`: the same
    per-item steps as the workers run; `on_chunk(count)` reports progress.
    """
    # Imported here: payout_batches imports this module (a cycle at import time).
    from payouts.models import PayoutBatch
    from payouts.services.payout_batches import payout_batch_complete_check  # the same cycle

    if batch.status == PayoutBatch.Status.APPROVED:
        PayoutBatch.objects.filter(pk=batch.pk, status=batch.status).update(
            status=PayoutBatch.Status.DISPATCHING, dispatched_at=timezone.now()
        )
    ids = list(
        PayoutItem.objects.filter(batch_id=batch.pk, status__in=PayoutItem.OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )
    size = max(1, min(settings.PAYOUT_CHUNK_SIZE, CHUNK_SIZE_MAX))
    for start in range(0, len(ids), size):
        chunk = ids[start : start + size]
        payout_items_submit(item_ids=chunk)
        if on_chunk is not None:
            on_chunk(len(chunk))
    return payout_batch_complete_check(batch_id=batch.pk)
