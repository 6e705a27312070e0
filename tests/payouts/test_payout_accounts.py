"""Creators connect with Stripe; `payouts_enabled` follows `account.updated`; reversals."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from django.test import Client, TestCase

from ledger.money import minor_to_micros
from ledger.selectors import account_balance, account_get
from licensing.accounts import creator_payable, platform_stripe_balance
from payouts.models import PayoutAccount, PayoutItem
from payouts.services.payout_batches import (
    payout_batch_approve,
    payout_batch_create,
    payout_batch_dispatch,
)
from payouts.stripe import gateway
from tests.fixtures.stripe_sandbox import SANDBOX_WEBHOOK_SECRET
from tests.payouts.builders import creator_onboard, creators_bulk_create, creators_fund

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]


def _deliver_latest(stripe_client: Any, event_type: str) -> Any:
    """Deliver the sandbox's newest event of a type to our webhook, signed."""
    [event] = stripe_client.v1.events.list({"type": event_type, "limit": 1}).data
    payload = json.dumps(event.to_dict()).encode()
    timestamp = int(time.time())
    digest = hmac.new(
        SANDBOX_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + payload, hashlib.sha256
    )
    # The endpoint stores the event and queues its processing on commit; the test's
    # transaction never commits, so run what would have run then.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return Client().post(
            "/stripe/webhook",
            data=payload,
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=f"t={timestamp},v1={digest.hexdigest()}",
        )


def test_connect_creates_the_account_once_and_onboarding_enables_payouts(
    creator_client_for: Any, stripe_sandbox_control: Any, stripe_client: Any
) -> None:
    [creator] = creators_bulk_create(1)
    client = creator_client_for(creator)
    assert client.get("/api/v1/me/payout-account").json() == {
        "object": "payout_account",
        "stripe_account": None,
        "payouts_enabled": False,
        "onboarding_url": None,
    }
    first = client.post("/api/v1/me/payout-account").json()
    second = client.post("/api/v1/me/payout-account").json()
    assert first["stripe_account"] == second["stripe_account"]
    assert first["payouts_enabled"] is False
    assert first["onboarding_url"] != second["onboarding_url"]  # a link works once
    assert PayoutAccount.objects.count() == 1

    assert stripe_sandbox_control.complete_onboarding(second["onboarding_url"]) in {302, 303}
    assert client.get("/api/v1/me/payout-account").json()["payouts_enabled"] is False
    assert _deliver_latest(stripe_client, "account.updated").status_code == 200
    assert client.get("/api/v1/me/payout-account").json()["payouts_enabled"] is True

    # Stripe turns payouts off (requirements past due): the next event says so.
    stripe_sandbox_control.set_payouts(first["stripe_account"], False)
    _deliver_latest(stripe_client, "account.updated")
    assert client.get("/api/v1/me/payout-account").json()["payouts_enabled"] is False


def test_finance_keys_have_no_payout_account(finance_client: Any) -> None:
    assert finance_client.get("/api/v1/me/payout-account").status_code == 403


def test_a_reversed_transfer_returns_the_money_to_payable_once(
    stripe_sandbox_control: Any,
    stripe_client: Any,
    finance_user: Any,
    creator_client_for: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    creators = creators_bulk_create(2)
    creators_fund(creators)
    for creator in creators:
        creator_onboard(creator, stripe_sandbox_control)
    batch = payout_batch_approve(batch=payout_batch_create(currency="eur"), user=finance_user)
    with django_capture_on_commit_callbacks(execute=True):
        payout_batch_dispatch(batch=batch)
    item = PayoutItem.objects.filter(batch=batch, creator=creators[0]).get()
    assert item.status == PayoutItem.Status.PAID
    payable = creator_payable(creators[0].public_id, "eur")
    before = account_balance(account_get(code=payable.row().code))
    balance_before = account_balance(account_get(code=platform_stripe_balance("eur").row().code))

    gateway.transfer_reverse(idempotency_key="test-reverse", transfer_id=item.transfer_id)
    assert _deliver_latest(stripe_client, "transfer.reversed").status_code == 200
    _deliver_latest(stripe_client, "transfer.reversed")  # a redelivery changes nothing

    item.refresh_from_db()
    assert item.status == PayoutItem.Status.REVERSED
    amount = minor_to_micros(item.amount, "eur")
    assert account_balance(account_get(code=payable.row().code)) == before - amount
    stripe_balance = account_balance(account_get(code=platform_stripe_balance("eur").row().code))
    assert stripe_balance == balance_before + amount
    mine = creator_client_for(creators[0]).get("/api/v1/me/payouts").json()["data"]
    assert [(p["id"], p["status"]) for p in mine] == [(item.public_id, "reversed")]


def test_the_daily_reconciliation_stores_the_day_and_tells_staff_of_differences(
    mailoutbox: Any, finance_user: Any, stripe_sandbox_control: Any
) -> None:
    from payouts.models import Reconciliation
    from payouts.tasks import reconciliation_daily_task

    assert reconciliation_daily_task.delay().get() == 0
    assert Reconciliation.objects.count() == 1
    assert mailoutbox == []

    [creator] = creators_bulk_create(1)
    account = creator_onboard(creator, stripe_sandbox_control)
    gateway.topup_create(idempotency_key="t", amount=1_000, currency="eur")
    transfer = gateway.transfer_create(
        idempotency_key="behind-our-back", destination=account.stripe_account_id,
        amount=500, currency="eur",
    )  # fmt: skip
    import datetime

    from payouts.services.reconciliation import reconciliation_run

    day = datetime.datetime.fromtimestamp(transfer.created, datetime.UTC).date()
    row = reconciliation_run(day=day)
    assert [d["stripe"] for d in row.differences] == [transfer.id]
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["fiona@accord.example"]
    assert transfer.id in mailoutbox[0].body
