"""Stripe webhooks: verify, store each event once, process each event once, later.

The flow for `POST /stripe/webhook` (`payouts.stripe.views.StripeWebhookView`):

1. `stripe_event_receive` verifies `Stripe-Signature` with STRIPE_WEBHOOK_SECRET
   (a forged, altered, stale or future-dated request raises `WebhookSignatureInvalid`:
   400, nothing stored) and stores the event under its unique Stripe id. A redelivery
   of a stored event stores nothing new. A signed event Accord cannot use (not JSON,
   no id, a string `created`, `data` a list...) is stored as processed, logged and
   acknowledged, never a 500: Stripe would only redeliver it.
2. The endpoint answers 200 at once; `stripe_event_process_task` (payouts/stripe/tasks.py)
   is queued when the stored row commits, and `stripe_events_pending_process_task`
   (beat) picks up any event whose processing failed, since a 200 stops Stripe's
   redeliveries.
3. `stripe_event_process` runs the handlers registered for the event's type. Each
   handler's `read` (its calls to Stripe) runs first, outside any transaction and any
   lock; then, in one transaction with the event's row locked, each handler applies
   what it read and `processed_at` is set. An event is processed at most once however
   many times, or how concurrently, it is delivered; a handler that raises rolls its
   writes back and leaves the event unprocessed, for the retry. An event type with no
   handler is stored and marked processed.

Handlers are registered by the module that cares, imported from `AppConfig.ready()`:

    from payouts.stripe.webhooks import stripe_event_handlers

    def transfer_read(event: StripeEvent) -> Transfer:      # Stripe, no lock held
        return gateway.transfer_retrieve(transfer_id=event.object_id)

    @stripe_event_handlers.register("transfer.reversed", read=transfer_read)
    def transfer_reversed_apply(event: StripeEvent, transfer: Transfer) -> None: ...

A handler registered without `read` is called as `handler(event)`, under the lock: it
must not call Stripe.

**Out-of-order delivery.** Stripe does not promise order: `transfer.reversed` can
arrive before `transfer.created`, an old `account.updated` after a newer one. So a
handler must act on the latest state, never on "the event says it changed":
- either re-read the object through the gateway in its `read`
  (`gateway.transfer_retrieve`, `account_retrieve`, ...) and act on what Stripe says
  now - the default, and the only choice when the decision moves money;
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
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from payouts.models import StripeEvent
from payouts.stripe import signatures

logger = logging.getLogger("accord.payouts.webhooks")

StripeEventHandler = Callable[..., None]
StripeEventRead = Callable[[StripeEvent], Any]
PENDING_BATCH_SIZE_MAX = 100


@dataclass(frozen=True)
class RegisteredHandler:
    apply: StripeEventHandler
    read: StripeEventRead | None = None

    def run(self, event: StripeEvent, was_read: Any) -> None:
        if self.read is None:
            self.apply(event)
        else:
            self.apply(event, was_read)


class StripeEventHandlers:
    """Which functions handle which event types, in registration order."""

    def __init__(self) -> None:
        self._handlers: dict[str, list[RegisteredHandler]] = {}

    def register(
        self, event_type: str, *, read: StripeEventRead | None = None
    ) -> Callable[[StripeEventHandler], StripeEventHandler]:
        """Decorate a function to run for every event of `event_type` (after `read`)."""

        def decorate(handler: StripeEventHandler) -> StripeEventHandler:
            handlers = self._handlers.setdefault(event_type, [])
            if all(known.apply is not handler for known in handlers):  # a re-import is harmless
                handlers.append(RegisteredHandler(handler, read))
            return handler

        return decorate

    def unregister(self, event_type: str, handler: StripeEventHandler) -> None:
        """Stop running `handler` for `event_type` (tests use this to clean up)."""
        handlers = self._handlers.get(event_type, [])
        handlers[:] = [known for known in handlers if known.apply is not handler]

    def for_type(self, event_type: str) -> tuple[RegisteredHandler, ...]:
        """Return the handlers of an event type (none for types nobody handles)."""
        return tuple(self._handlers.get(event_type, ()))


stripe_event_handlers = StripeEventHandlers()


def stripe_event_receive(*, payload: bytes, signature: str | None) -> tuple[StripeEvent, bool]:
    """Verify a webhook and store its event once; return the row and whether it is new."""
    verified = signatures.webhook_event_verify(payload=payload, signature=signature)
    now = timezone.now()
    values = {
        "type": verified.type,
        "created": (
            now
            if verified.created is None
            else datetime.datetime.fromtimestamp(verified.created, tz=datetime.UTC)
        ),
        "object_id": verified.object_id or "",
        "account": verified.account or "",
        "payload": verified.payload,
        # Nothing will ever process an unusable event: it is done when it is stored.
        "processed_at": now if verified.problem else None,
    }
    try:
        with transaction.atomic():
            event, created = StripeEvent.objects.get_or_create(
                stripe_id=verified.id, defaults=values
            )
    except IntegrityError:
        # A concurrent delivery of the same event inserted it first.
        event, created = StripeEvent.objects.get(stripe_id=verified.id), False
    if verified.problem and created:
        logger.warning("stored unusable Stripe event %s: %s", verified.id, verified.problem)
    return event, created


def stripe_event_process(*, stripe_event_id: int) -> bool:
    """Run the event's handlers unless already done; return whether they ran now.

    Every handler's read from Stripe happens before the transaction, so no row lock is
    ever held while Stripe is asked; the lock then decides which of two concurrent
    runs applies (the other finds the event processed and does nothing).
    """
    event = StripeEvent.objects.filter(pk=stripe_event_id, processed_at__isnull=True).first()
    if event is None:
        return False
    handlers = stripe_event_handlers.for_type(event.type)
    was_read = [handler.read(event) if handler.read else None for handler in handlers]
    with transaction.atomic():
        event = StripeEvent.objects.select_for_update().get(pk=stripe_event_id)
        if event.processed_at is not None:
            return False
        for handler, read in zip(handlers, was_read, strict=True):
            handler.run(event, read)
        event.processed_at = timezone.now()
        event.save(update_fields=["processed_at"])
    logger.info("processed Stripe event %s (%s)", event.stripe_id, event.type)
    return True


def stripe_events_pending(*, older_than: datetime.timedelta) -> list[int]:
    """The ids of events stored before `older_than` ago and still not processed (bounded)."""
    cutoff = timezone.now() - older_than
    pending = StripeEvent.objects.filter(processed_at__isnull=True, received_at__lte=cutoff)
    return list(
        pending.order_by("created", "id").values_list("pk", flat=True)[:PENDING_BATCH_SIZE_MAX]
    )


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
