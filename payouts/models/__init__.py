"""The payouts app's models, one module per entity group.

`stripe_events` (the webhook inbox); royalty runs, statements, invoices and payout
batches get `royalty_runs.py`, `statements.py`, `invoices.py`, `payout_batches.py`
beside it. Everything is re-exported here, so `from payouts.models import StripeEvent`
keeps working and migrations keep their paths.
"""

from payouts.models.stripe_events import StripeEvent

__all__ = ["StripeEvent"]
