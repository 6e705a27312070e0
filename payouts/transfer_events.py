"""Stripe's Connect and transfer events, acted on as Stripe sees the object now.

- `account.updated`: re-read the account and copy `payouts_enabled` (and whether
  transfers are active) onto the creator's `PayoutAccount`.
- `transfer.created`: a transfer whose creation answer was lost settles its item.
- `transfer.reversed`: the reversed part of a paid item goes back to payable.
Each handler re-reads through the gateway, since deliveries come out of order, and
each is idempotent on our rows (the item's state machine, posting keys).
"""

from __future__ import annotations

from payouts.models import StripeEvent
from payouts.services.payout_accounts import payout_account_sync
from payouts.services.payout_dispatch import (
    payout_item_transfer_confirm,
    payout_item_transfer_reversed,
)
from payouts.stripe import gateway
from payouts.stripe.webhooks import stripe_event_handlers


@stripe_event_handlers.register("account.updated")
def account_updated_handle(event: StripeEvent) -> None:
    account_id = event.account or event.object_id
    if account_id:
        payout_account_sync(stripe_account_id=account_id)


@stripe_event_handlers.register("transfer.created")
def transfer_created_handle(event: StripeEvent) -> None:
    transfer = gateway.transfer_retrieve(transfer_id=event.object_id)
    payout_item_transfer_confirm(transfer=transfer)


@stripe_event_handlers.register("transfer.reversed")
def transfer_reversed_handle(event: StripeEvent) -> None:
    transfer = gateway.transfer_retrieve(transfer_id=event.object_id)
    payout_item_transfer_reversed(transfer=transfer)
