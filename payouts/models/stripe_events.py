"""The log of Stripe events received by webhook.

`StripeEvent` is the inbox that makes webhook processing exactly-once. Stripe
delivers an event at least once (retries, replays, out of order); storing each
event id under a unique constraint turns duplicates into no-ops, and
`processed_at` - set in the same transaction as the handlers' writes - says whether
its handlers have run. An event stored but never processed (a handler failed) is
processed when Stripe delivers it again.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class StripeEvent(models.Model):
    """One Stripe event, stored once, processed once."""

    stripe_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100)
    # Stripe's own creation time of the event (not of our receipt): the order of truth.
    created = models.DateTimeField()
    # The object the event is about (`data.object.id`), to tell an event from a newer one.
    object_id = models.CharField(max_length=255, blank=True, default="")
    # The connected account for Connect events (`account`), else "".
    account = models.CharField(max_length=255, blank=True, default="")
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "payouts_stripe_event"
        ordering = ["created", "id"]
        indexes = [
            models.Index(fields=["object_id", "created"], name="payouts_stripe_event_object"),
            models.Index(fields=["type", "created"], name="payouts_stripe_event_type"),
        ]

    def __str__(self) -> str:
        return f"{self.stripe_id} ({self.type})"
