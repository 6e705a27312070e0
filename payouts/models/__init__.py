"""Payouts' data, one module per entity; re-exported here so `payouts.models.X` works."""

from payouts.models.payout_batches import (
    CreatorHold,
    PayoutAccount,
    PayoutBatch,
    PayoutBatchApproval,
    PayoutItem,
    Reconciliation,
)
from payouts.models.stripe_events import StripeEvent

__all__ = [
    "CreatorHold",
    "PayoutAccount",
    "PayoutBatch",
    "PayoutBatchApproval",
    "PayoutItem",
    "Reconciliation",
    "StripeEvent",
]
