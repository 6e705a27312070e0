"""Celery tasks of the payouts app: thin wrappers that take ids and call a service.

A payout dispatch fans out into jobs of PAYOUT_CHUNK_SIZE items. Each job is safe to
run twice or concurrently (the items' state machine, row locks and Stripe's
idempotency keys), which is what `acks_late` with `reject_on_worker_lost` needs: a
worker killed mid-job has its job delivered again, to finish what it started.
"""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from payouts.models import PayoutBatch, PayoutItem, RoyaltyRun
from payouts.services.invoice_charges import invoice_charge, invoices_charge_due_ids
from payouts.services.payout_batches import payout_batch_complete_check
from payouts.services.payout_dispatch import (
    backoff_seconds,
    fan_out_chunk_size,
    payout_items_submit,
)
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import royalty_run_compute


@shared_task(autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def royalty_run_compute_task(run_id: int) -> str:
    """Rate a run's period into lines (a computing run; a no-op otherwise)."""
    return royalty_run_compute(run_id=run_id).status


@shared_task(autoretry_for=(OperationalError,), max_retries=5, retry_backoff=True)
def royalty_run_post_task(run_id: int) -> str:
    """Post an approved run in chunks; run twice, it posts every transaction once."""
    return royalty_run_post(run_id=run_id).status


@shared_task
def royalty_runs_resume_task() -> int:
    """Re-enqueue runs a dead worker left approved or half-posted (beat, every few minutes)."""
    run_ids = list(
        RoyaltyRun.objects.filter(
            status__in=[RoyaltyRun.Status.APPROVED, RoyaltyRun.Status.POSTING]
        ).values_list("pk", flat=True)
    )
    for run_id in run_ids:
        royalty_run_post_task.delay(run_id)
    return len(run_ids)


CHUNK_RETRIES_MAX = 20


@shared_task(ignore_result=True)
def payout_batch_fan_out_task(batch_id: int) -> int:
    """Enqueue the batch's open items in chunks; return how many chunks."""
    batch = PayoutBatch.objects.get(pk=batch_id)
    if batch.status != PayoutBatch.Status.DISPATCHING:
        return 0
    item_ids = list(
        PayoutItem.objects.filter(batch=batch, status__in=PayoutItem.OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )
    size = fan_out_chunk_size(len(item_ids))
    chunks = [item_ids[start : start + size] for start in range(0, len(item_ids), size)]
    for chunk in chunks:
        payout_items_submit_task.delay(batch_id, chunk)
    if not chunks:
        payout_batch_complete_check(batch_id=batch_id)
    return len(chunks)


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    max_retries=CHUNK_RETRIES_MAX,
    ignore_result=True,
)
def payout_items_submit_task(self, batch_id: int, item_ids: list[int]) -> dict:
    """Send one chunk of items; retry later the ones whose outcome is still unknown."""
    outcome = payout_items_submit(item_ids=item_ids)
    payout_batch_complete_check(batch_id=batch_id)
    # Items still open: their outcome is unknown, or another worker held them (and may
    # die): look again later; an item settled meanwhile costs no Stripe request then.
    still_open = list(
        PayoutItem.objects.filter(pk__in=item_ids, status__in=PayoutItem.OPEN_STATUSES)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if still_open:
        raise self.retry(
            args=(batch_id, still_open),
            countdown=backoff_seconds(min(self.request.retries, 6)) * 10,
        )
    return {"paid": outcome.paid, "failed": outcome.failed, "busy": outcome.busy}


@shared_task(ignore_result=True)
def reconciliation_daily_task() -> int:
    """Reconcile yesterday (UTC) and tell staff of differences; return how many."""
    # Imported here: reconciliation reads the gateway, which the worker needs only now.
    from payouts.services.reconciliation import reconciliation_run_for_yesterday

    return len(reconciliation_run_for_yesterday().differences)


@shared_task(autoretry_for=(OperationalError,), max_retries=3, retry_backoff=True)
def invoice_charge_task(invoice_id: int) -> str:
    """Charge one due card invoice (safe twice: the claim, the key, the row lock)."""
    return invoice_charge(invoice_id=invoice_id).status


@shared_task(ignore_result=True)
def invoices_charge_due_task() -> int:
    """Beat: charge the card invoices whose next attempt has come; return how many."""
    invoice_ids = invoices_charge_due_ids()
    for invoice_id in invoice_ids:
        invoice_charge_task.delay(invoice_id)
    return len(invoice_ids)
