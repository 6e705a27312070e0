"""The payouts app's models, one module per entity group, re-exported here.

`stripe_events` (the webhook inbox), `royalty_runs` (runs, their approvals and
lines); statements, invoices and payout batches get their modules beside them.
Migrations and `from payouts.models import StripeEvent` keep their paths.
"""

from payouts.models.royalty_runs import RoyaltyApproval, RoyaltyLine, RoyaltyRun
from payouts.models.stripe_events import StripeEvent

__all__ = ["RoyaltyApproval", "RoyaltyLine", "RoyaltyRun", "StripeEvent"]
