"""The payouts portal pages: finance's batches, items, holds, reconciliation; creators'
Stripe connection. Registered on import (Django's admin autodiscovery imports this)."""

from payouts.admin import payout_accounts, payout_batches  # noqa: F401
