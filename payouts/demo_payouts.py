"""The demo's payout step: onboard the demo creators in the sandbox, pay them a batch.

Idempotent like every demo step: creators already onboarded are left alone, and a
batch is drafted only when someone is owed at least the minimum, so a second run
(every payable down to its sub-cent remainder) pays and posts nothing.
"""

from __future__ import annotations

import http.client
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Sum

from licensing.models import Creator
from payouts.models import PayoutAccount, PayoutBatch
from payouts.selectors.payout_batches import payout_candidates
from payouts.services.payout_accounts import payout_account_connect, payout_account_sync
from payouts.services.payout_batches import payout_batch_approve, payout_batch_create
from payouts.services.payout_dispatch import payout_batch_send_in_process
from payouts.stripe import gateway

DEMO_CURRENCY = "eur"


def _onboarding_form_submit(url: str) -> None:
    """Fill in the sandbox's hosted onboarding form, as the creator would in a browser."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=10)
    try:
        connection.request(
            "POST",
            parts.path,
            body=b"business_name=Demo+studio&agree=true",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        connection.getresponse().read()
    finally:
        connection.close()


def _demo_creators_onboard() -> int:
    onboarded = 0
    for creator in Creator.objects.select_related("user").order_by("id"):
        account = PayoutAccount.objects.filter(creator=creator).first()
        if account is not None and account.ready:
            continue
        connection = payout_account_connect(
            creator=creator,
            return_url="http://127.0.0.1:8000/admin/payouts/payoutaccount/",
            refresh_url="http://127.0.0.1:8000/admin/payouts/payoutaccount/",
        )
        if connection.onboarding_url:
            _onboarding_form_submit(connection.onboarding_url)
        payout_account_sync(stripe_account_id=connection.account.stripe_account_id)
        onboarded += 1
    return onboarded


def demo_payouts_run() -> str:
    """Onboard every demo creator, then draft, approve and dispatch a batch if owed."""
    onboarded = _demo_creators_onboard()
    if not any(c.skip_reason is None for c in payout_candidates(currency=DEMO_CURRENCY)):
        return f"payouts: {onboarded} creators onboarded; nobody owed the minimum, no batch"
    finance = get_user_model().objects.filter(is_superuser=True).order_by("id").first()
    batch = payout_batch_create(currency=DEMO_CURRENCY, user=finance)
    # Invoiced sales are owed to creators before the licensee pays: the demo's platform
    # tops its sandbox balance up so that every transfer can go.
    available = gateway.balance_retrieve().available.get(DEMO_CURRENCY, 0)
    if available < batch.total:
        gateway.topup_create(
            idempotency_key=f"accord-demo-topup:{batch.public_id}",
            amount=batch.total - available,
            currency=DEMO_CURRENCY,
        )
    approvers = list(
        get_user_model().objects.filter(is_staff=True, is_superuser=True).order_by("id")[:1]
    ) + list(get_user_model().objects.filter(groups__name="Finance").order_by("id")[:1])
    for approver in approvers:
        batch.refresh_from_db()
        if batch.status == PayoutBatch.Status.DRAFT:
            batch = payout_batch_approve(batch=batch, user=approver)
    if batch.status != PayoutBatch.Status.APPROVED:
        return f"payouts: batch {batch.public_id} drafted, waiting for a second approver"
    batch = payout_batch_send_in_process(batch=batch)
    paid = batch.items.filter(status="paid").aggregate(total=Sum("amount"))["total"] or 0
    return (
        f"payouts: {onboarded} creators onboarded; batch {batch.public_id} {batch.status}, "
        f"{batch.items.filter(status='paid').count()} items paid, {paid} {DEMO_CURRENCY} cents "
        f"(minimum {settings.PAYOUT_MINIMUM})"
    )
