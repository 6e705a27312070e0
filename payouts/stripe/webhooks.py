"""Stripe webhooks: verify, store each event once, process each event once.

The flow for `POST /stripe/webhook` (see `payouts.stripe.views.StripeWebhookView`):

1. `stripe_event_receive` verifies `Stripe-Signature` with STRIPE_WEBHOOK_SECRET
   (a forged, altered or stale request raises `WebhookSignatureInvalid`: 400, nothing
   stored) and stores the event under its unique Stripe id. A redelivery of a stored
   event stores nothing new.
2. `stripe_event_process` runs the handlers registered for the event's type and sets
   `processed_at` in one transaction, with the row locked: an event is processed at
   most once however many times, or how concurrently, Stripe delivers it. A handler
   that raises rolls its writes back and leaves the event unprocessed; the endpoint
   answers 500 and Stripe's redelivery processes it then. An event type with no
   handler is stored and acknowledged.

Handlers are registered by the app that cares (`licensing` for payments, `payouts`
for transfers), in its `AppConfig.ready()`:

    from payouts.stripe.webhooks import stripe_event_handlers

    @stripe_event_handlers.register("transfer.reversed")
    def transfer_reversed_handle(event: StripeEvent) -> None: ...

**Out-of-order delivery.** Stripe does not promise order: `transfer.reversed` can
arrive before `transfer.created`, an old `account.updated` after a newer one. So a
handler must act on the latest state, never on "the event says it changed":
- either re-read the object through the gateway (`gateway.transfer_retrieve`,
  `account_retrieve`, ...) and act on what Stripe says now - the default, and the
  only choice when the decision moves money;
- or, for a handler that copies a snapshot into our rows, skip events that
  `stripe_event_superseded` reports: a newer event about the same object has
  already been processed.
Handlers must also be safe to run on state they already reflect (a status machine
that ignores a transition it has made), because the re-read may show an outcome
that an earlier event's handler has already applied.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils import timezone

from payouts.models import StripeEvent
from payouts.stripe import gateway

logger = logging.getLogger("accord.payouts.webhooks")

StripeEventHandler = Callable[[StripeEvent], None]


class StripeEventHandlers:
    """Which functions handle which event types, in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[StripeEventHandler]] = {}

    def register(self, event_type: str) -> Callable[[StripeEventHandler], StripeEventHandler]:
        """Decorate a function to run for every event of `event_type`."""

        def decorate(handler: StripeEventHandler) -> StripeEventHandler:
            handlers = self._handlers.setdefault(event_type, [])
            if handler not in handlers:  # registering twice (a re-imported module) is harmless
                handlers.append(handler)
            return handler

        return decorate

    def unregister(self, event_type: str, handler: StripeEventHandler) -> None:
        """Stop running `handler` for `event_type` (tests use this to clean up)."""
        handlers = self._handlers.get(event_type, [])
        if handler in handlers:
            handlers.remove(handler)

    def for_type(self, event_type: str) -> tuple[StripeEventHandler, ...]:
        """Return the handlers of an event type (none for types nobody handles)."""
        return tuple(self._handlers.get(event_type, ()))


stripe_event_handlers = StripeEventHandlers()


def stripe_event_receive(*, payload: bytes, signature: str | None) -> tuple[StripeEvent, bool]:
    """Verify a webhook and store its event once; return the row and whether it is new."""
    verified = gateway.webhook_event_verify(payload=payload, signature=signature)
    values = {
        "type": verified.type,
        "created": datetime.datetime.fromtimestamp(verified.created, tz=datetime.UTC),
        "object_id": verified.object_id or "",
        "account": verified.account or "",
        "payload": verified.payload,
    }
    try:
        with transaction.atomic():
            event, created = StripeEvent.objects.get_or_create(
                stripe_id=verified.id, defaults=values
            )
    except IntegrityError:
        # A concurrent delivery of the same event inserted it first.
        event, created = StripeEvent.objects.get(stripe_id=verified.id), False
    return event, created


def stripe_event_process(*, stripe_event_id: int) -> bool:
    """Run the event's handlers unless already done; return whether they ran now."""
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=stripe_event_id)
        if event.processed_at is not None:
            return False
        for handler in stripe_event_handlers.for_type(event.type):
            handler(event)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    logger.info("processed Stripe event %s (%s)", event.stripe_id, event.type)
    return True


def stripe_event_superseded(event: StripeEvent) -> bool:
    """Say whether a newer event about the same object has already been processed.

    "Newer" is Stripe's `created` (whole seconds); two events in the same second are
    not ordered, so neither supersedes the other and handlers must tolerate both.
    """
    if not event.object_id:
        return False
    return (
        StripeEvent.objects.filter(
            object_id=event.object_id, created__gt=event.created, processed_at__isnull=False
        )
        .exclude(pk=event.pk)
        .exists()
    )
