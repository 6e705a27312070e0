"""Histories for statement tests: sales, posted runs and payouts through the real services."""

from __future__ import annotations

from django.conf import settings as django_settings

from licensing.services.creators import finance_user_create
from payouts.models import PayoutBatch, PayoutItem, RoyaltyRun
from payouts.services.payout_postings import payout_submit_post
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_compute


def run_posted(period: str, monkeypatch, username: str = "stm-finance") -> RoyaltyRun:
    """Compute, approve and post a period's run (one approver; posting run inline)."""
    monkeypatch.setattr(django_settings, "ROYALTY_SECOND_APPROVAL_ABOVE", {}, raising=False)
    run = RoyaltyRun.objects.create(period=period)
    run = royalty_run_compute(run_id=run.pk)
    assert run.status == RoyaltyRun.Status.COMPUTED, run.failure_reason
    user = finance_user_create(username=f"{username}-{period}")
    royalty_run_approve(run=run, user=user)
    royalty_run_post(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == RoyaltyRun.Status.POSTED
    return run


def payout_posted(creator, amount_minor: int, currency: str = "eur") -> PayoutItem:
    """Book a payout's submission (payable -> in transit), effective now, as dispatch does."""
    batch = PayoutBatch.objects.create(currency=currency)
    item = PayoutItem.objects.create(
        batch=batch,
        creator=creator,
        stripe_account_id="acct_test",
        currency=currency,
        amount=amount_minor,
        # Paid: a creator has one unfinished item at a time, and a test books several.
        status=PayoutItem.Status.PAID,
    )
    payout_submit_post(item=item)
    return item
