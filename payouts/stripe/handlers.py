"""Stripe payment events that complete purchases whose request did not live to do it.

When the process that charged a card dies before committing the license, the client's
retry completes it (`licensing.services.purchases`). If the client never retries, Stripe's
`payment_intent.succeeded` does: the handler re-reads the PaymentIntent (a decision
that moves money acts on Stripe's state now, not on the event) and completes the
pending purchase named in its metadata. Completion is idempotent, so the webhook and
the retry may both arrive, in either order.
"""

from __future__ import annotations

from licensing.models import Purchase
from licensing.services.purchases import purchase_complete
from payouts.models import StripeEvent
from payouts.stripe import gateway
from payouts.stripe.webhooks import stripe_event_handlers


@stripe_event_handlers.register("payment_intent.succeeded")
def payment_intent_succeeded_handle(event: StripeEvent) -> None:
    intent = gateway.payment_intent_retrieve(payment_intent_id=event.object_id)
    purchase_id = intent.metadata.get("accord_purchase")
    if intent.status != "succeeded" or not purchase_id:
        return
    purchase = Purchase.objects.filter(public_id=purchase_id).first()
    if purchase is None or purchase.status != Purchase.Status.PENDING:
        return
    assert intent.amount == purchase.amount, (intent.amount, purchase.amount)
    purchase_complete(purchase=purchase, payment_intent_id=intent.id)
