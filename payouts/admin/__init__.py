"""The payouts app's admin screens, one module per entity (registered on import).

Royalty runs; finance's payout batches, items, holds, reconciliation; creators'
Stripe connection.
"""

from payouts.admin import payout_accounts, payout_batches, royalty_runs  # noqa: F401
