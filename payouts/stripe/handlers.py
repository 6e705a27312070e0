"""Stripe payment events that complete purchases whose request did not live to do it.

When the process that charged a card dies before committing the license, the client's
retry completes it (`licensing.services.purchases`). If the client never retries,
Stripe's `payment_intent.succeeded` does: the handler re-reads the PaymentIntent
first, outside any lock (a decision that moves money acts on Stripe's state now, not
on the event), then completes the pending purchase named in its metadata under the
event's lock. Completion is idempotent, so the webhook and the retry may both arrive,
in either order. A PaymentIntent Stripe does not know is logged and left alone.

A dataset clearance's PaymentIntent (metadata `accord_clearance`) is completed the same
way, under the clearance's lock (`licensing.services.clearance_purchases`).
"""

from __future__ import annotations

import logging

from licensing.models import Purchase
from licensing.services.clearance_purchases import clearance_payment_succeeded
from licensing.services.purchases import purchase_complete
from payouts.models import StripeEvent
from payouts.stripe import gateway
from payouts.stripe.errors import GatewayError, GatewayErrorCode
from payouts.stripe.results import PaymentIntent
from payouts.stripe.webhooks import stripe_event_handlers

logger = logging.getLogger("accord.payouts.webhooks")


def payment_intent_succeeded_read(event: StripeEvent) -> PaymentIntent | None:
    """The event's PaymentIntent as Stripe has it now; None if Stripe knows no such one."""
    if not event.object_id:
        return None
    try:
        return gateway.payment_intent_retrieve(payment_intent_id=event.object_id)
    except GatewayError as refused:
        if refused.code != GatewayErrorCode.NOT_FOUND:
            raise  # unavailable and the like: the task retries
        logger.warning("Stripe event %s names unknown %s", event.stripe_id, event.object_id)
        return None


@stripe_event_handlers.register("payment_intent.succeeded", read=payment_intent_succeeded_read)
def payment_intent_succeeded_apply(event: StripeEvent, intent: PaymentIntent | None) -> None:
    if intent is None or intent.status != "succeeded":
        return
    clearance_id = intent.metadata.get("accord_clearance")
    if clearance_id:
        clearance_payment_succeeded(
            clearance_id=clearance_id,
            payment_intent_id=intent.id,
            amount=intent.amount,
            currency=intent.currency,
        )
        return
    purchase_id = intent.metadata.get("accord_purchase")
    purchase = Purchase.objects.filter(public_id=purchase_id).first() if purchase_id else None
    if purchase is None or purchase.status != Purchase.Status.PENDING:
        return
    assert intent.amount == purchase.amount, (intent.amount, purchase.amount)
    purchase_complete(purchase=purchase, payment_intent_id=intent.id)


def payment_intent_succeeded_handle(event: StripeEvent) -> None:
    """Read, then apply: what the task does for this event type (tests call it alone)."""
    payment_intent_succeeded_apply(event, payment_intent_succeeded_read(event))
