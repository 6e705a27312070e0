"""The payouts app's models, one module per entity group, re-exported here.

`stripe_events` (the webhook inbox), `royalty_runs` (runs, their approvals and
lines), `invoices` (licensee invoices and their items), `payout_batches`
(accounts, batches, items, holds, reconciliations).
Migrations and `from payouts.models import StripeEvent` keep their paths.
"""

from payouts.models.invoices import Invoice, InvoiceItem
from payouts.models.payout_batches import (
    CreatorHold,
    PayoutAccount,
    PayoutBatch,
    PayoutBatchApproval,
    PayoutItem,
    Reconciliation,
)
from payouts.models.royalty_runs import RoyaltyApproval, RoyaltyLine, RoyaltyRun
from payouts.models.stripe_events import StripeEvent

__all__ = [
    "CreatorHold",
    "Invoice",
    "InvoiceItem",
    "PayoutAccount",
    "PayoutBatch",
    "PayoutBatchApproval",
    "PayoutItem",
    "Reconciliation",
    "RoyaltyApproval",
    "RoyaltyLine",
    "RoyaltyRun",
    "StripeEvent",
]
