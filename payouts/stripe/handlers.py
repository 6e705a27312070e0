"""Stripe payment events that complete purchases whose request did not live to do it.

When the process that charged a card dies before committing the license, the client's
retry completes it (`licensing.services.purchases`). If the client never retries,
Stripe's `payment_intent.succeeded` does: the handler re-reads the PaymentIntent
first, outside any lock (a decision that moves money acts on Stripe's state now, not
on the event), then completes the pending purchase named in its metadata under the
event's lock. Completion is idempotent, so the webhook and the retry may both arrive,
in either order. A PaymentIntent Stripe does not know is logged and left alone.

A PaymentIntent naming an invoice (`metadata[accord_invoice]`: Accord's own card
charge, or a payment the licensee made through Stripe) posts the invoice's payment,
once, unless the charge or finance got there first. A dataset clearance's PaymentIntent
(metadata `accord_clearance`) is completed like a purchase, under the clearance's lock
(`licensing.services.clearance_purchases`).
"""

from __future__ import annotations

import logging

from licensing.models import Purchase
from licensing.services.clearance_purchases import clearance_payment_succeeded
from licensing.services.purchases import purchase_complete
from payouts.models import Invoice, StripeEvent
from payouts.services.invoices import invoice_payment_record
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
    if intent.metadata.get("accord_invoice"):
        _invoice_paid(intent)
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


def _invoice_paid(intent: PaymentIntent) -> None:
    """An invoice's PaymentIntent succeeded: post the payment unless a path already did."""
    invoice = Invoice.objects.filter(public_id=intent.metadata["accord_invoice"]).first()
    if invoice is None or invoice.status != Invoice.Status.OPEN:
        return
    if (intent.amount, intent.currency) != (invoice.amount_due, invoice.currency):
        # Not what the invoice asks: finance decides (the reconciliation shows the charge).
        logger.error("PaymentIntent %s does not match invoice %s", intent.id, invoice.public_id)
        return
    invoice_payment_record(
        invoice_id=invoice.pk, paid_by=Invoice.PaidBy.STRIPE, payment_intent_id=intent.id
    )


def payment_intent_succeeded_handle(event: StripeEvent) -> None:
    """Read, then apply: what the task does for this event type (tests call it alone)."""
    payment_intent_succeeded_apply(event, payment_intent_succeeded_read(event))
