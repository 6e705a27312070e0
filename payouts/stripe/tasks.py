"""Celery tasks of the Stripe package: thin wrappers that take ids and call a service."""

from __future__ import annotations

import logging
from datetime import timedelta

from celery import shared_task

from payouts.stripe.errors import GatewayUnavailable
from payouts.stripe.webhooks import stripe_event_process, stripe_events_pending

logger = logging.getLogger("accord.payouts.webhooks")
RETRIES_MAX = 5
# An event still unprocessed this long after it arrived lost its task (a failure, a
# worker that died); the endpoint answered 200, so Stripe will not deliver it again.
PENDING_AFTER = timedelta(minutes=2)


@shared_task(
    autoretry_for=(GatewayUnavailable,),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=RETRIES_MAX,
)
def stripe_event_process_task(stripe_event_id: int) -> bool:
    """Process one stored event (queued by the webhook endpoint once the row commits)."""
    return stripe_event_process(stripe_event_id=stripe_event_id)


@shared_task
def stripe_events_pending_process_task() -> int:
    """Process the events whose own task failed or was lost (beat); return how many ran."""
    processed = 0
    for stripe_event_id in stripe_events_pending(older_than=PENDING_AFTER):
        try:
            processed += stripe_event_process(stripe_event_id=stripe_event_id)
        except Exception:  # one event's failure must not stop the others; it stays pending
            logger.exception("Stripe event %s failed again", stripe_event_id)
    return processed
