"""Creators' Stripe Connect accounts: created once, onboarded through an AccountLink.

`payouts_enabled` is copied from Stripe, never from an event's body: events arrive
out of order, so the `account.updated` handler re-reads the account and stores what
Stripe says now.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from licensing.models import Creator
from payouts.models import PayoutAccount
from payouts.stripe import gateway

DEFAULT_COUNTRY = "FR"


@dataclass(frozen=True)
class PayoutAccountConnection:
    account: PayoutAccount
    onboarding_url: str | None


def _account_create(creator: Creator) -> PayoutAccount:
    # The key is the creator's own id: a retry after a crash finds the account Stripe
    # already made instead of opening a second one.
    remote = gateway.account_create(
        idempotency_key=f"accord-creator-account:{creator.public_id}",
        country=creator.country or DEFAULT_COUNTRY,
        email=creator.user.email or None,
        metadata={"accord_creator": creator.public_id},
    )
    try:
        with transaction.atomic():
            return PayoutAccount.objects.create(
                creator=creator,
                stripe_account_id=remote.id,
                payouts_enabled=remote.payouts_enabled,
                transfers_active=remote.transfers_active,
                details_submitted=remote.details_submitted,
            )
    except IntegrityError:
        return PayoutAccount.objects.get(creator=creator)


def payout_account_connect(
    *, creator: Creator, return_url: str, refresh_url: str
) -> PayoutAccountConnection:
    """Create the creator's Express account once, and a fresh onboarding link."""
    account = PayoutAccount.objects.filter(creator=creator).first() or _account_create(creator)
    if account.ready:
        return PayoutAccountConnection(account=account, onboarding_url=None)
    # Each link is new (a link works once); its key is unique per request on purpose.
    link = gateway.account_link_create(
        account_id=account.stripe_account_id,
        refresh_url=refresh_url,
        return_url=return_url,
        idempotency_key=f"accord-account-link:{account.stripe_account_id}:{timezone.now().timestamp()}",
    )
    return PayoutAccountConnection(account=account, onboarding_url=link.url)


def payout_account_sync(*, stripe_account_id: str) -> PayoutAccount | None:
    """Copy an account's state from Stripe (as it is now); None if it is not ours."""
    if not PayoutAccount.objects.filter(stripe_account_id=stripe_account_id).exists():
        return None
    remote = gateway.account_retrieve(account_id=stripe_account_id)
    with transaction.atomic():
        account = PayoutAccount.objects.select_for_update().get(stripe_account_id=remote.id)
        account.payouts_enabled = remote.payouts_enabled
        account.transfers_active = remote.transfers_active
        account.details_submitted = remote.details_submitted
        account.updated_at = timezone.now()
        account.save(
            update_fields=["payouts_enabled", "transfers_active", "details_submitted", "updated_at"]
        )
        Creator.objects.filter(pk=account.creator_id).update(
            stripe_account_id=remote.id,
            onboarding_state=(
                Creator.OnboardingState.COMPLETE
                if account.ready
                else Creator.OnboardingState.RESTRICTED
                if remote.details_submitted
                else Creator.OnboardingState.PENDING
            ),
        )
    return account
