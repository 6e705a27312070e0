"""The payouts app's admin screens, one module per entity (registered on import).

Royalty runs; invoices; finance's payout batches, items, holds, reconciliation; creators'
Stripe connection.
"""

from payouts.admin import invoices, payout_accounts, payout_batches, royalty_runs  # noqa: F401
