"""Idempotency keys as Stripe keeps them, driven through the stripe SDK."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import stripe

from tests.fixtures.stripe_sandbox import SANDBOX_API_KEY, SandboxControl
from tests.stripe_sandbox.helpers import available, fund_platform, onboarded_account


def test_replay_with_same_key_and_params_returns_the_same_object(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 1_000)
    params: dict[str, Any] = {
        "amount": 400,
        "currency": "eur",
        "destination": account.id,
        "metadata": {"payout_item": "17"},
    }

    first = stripe_client.v1.transfers.create(params, {"idempotency_key": "payout-item-17"})
    again = stripe_client.v1.transfers.create(params, {"idempotency_key": "payout-item-17"})

    assert again.id == first.id
    assert again.to_dict() == first.to_dict()
    assert first.last_response.headers.get("Idempotent-Replayed") is None
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    assert again.last_response.headers["Original-Request"] == first.last_response.request_id
    assert len(stripe_client.v1.transfers.list().data) == 1
    assert available(stripe_client) == 600


def test_same_key_with_other_params_is_an_idempotency_error(stripe_client: stripe.StripeClient):
    stripe_client.v1.topups.create({"amount": 100, "currency": "eur"}, {"idempotency_key": "k"})

    with pytest.raises(stripe.IdempotencyError) as mismatch:
        stripe_client.v1.topups.create({"amount": 101, "currency": "eur"}, {"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError):
        stripe_client.v1.customers.create({}, {"idempotency_key": "k"})  # another endpoint

    assert mismatch.value.http_status == 400
    assert mismatch.value.error.type == "idempotency_error"
    assert available(stripe_client) == 100


def test_keys_are_scoped_by_api_key(stripe_sandbox: str, stripe_client: stripe.StripeClient):
    other = stripe.StripeClient("sk_test_other_platform", base_addresses={"api": stripe_sandbox})

    mine = stripe_client.v1.topups.create(
        {"amount": 1, "currency": "eur"}, {"idempotency_key": "k"}
    )
    theirs = other.v1.topups.create({"amount": 2, "currency": "eur"}, {"idempotency_key": "k"})

    assert mine.id != theirs.id
    assert SANDBOX_API_KEY != "sk_test_other_platform"


def test_an_error_from_the_work_is_replayed_too(stripe_client: stripe.StripeClient):
    params: dict[str, Any] = {
        "amount": 900,
        "currency": "eur",
        "payment_method": "pm_card_chargeDeclined",
        "confirm": True,
    }
    with pytest.raises(stripe.CardError) as first:
        stripe_client.v1.payment_intents.create(params, {"idempotency_key": "purchase-3"})

    with pytest.raises(stripe.CardError) as again:
        stripe_client.v1.payment_intents.create(params, {"idempotency_key": "purchase-3"})

    assert again.value.headers["Idempotent-Replayed"] == "true"
    assert again.value.error.payment_intent.id == first.value.error.payment_intent.id
    assert len(stripe_client.v1.payment_intents.list().data) == 1


def test_a_request_that_fails_validation_is_not_stored(stripe_client: stripe.StripeClient):
    with pytest.raises(stripe.InvalidRequestError) as invalid:
        stripe_client.v1.topups.create({"amount": 100}, {"idempotency_key": "topup-1"})
    assert invalid.value.code == "parameter_missing"

    fixed = stripe_client.v1.topups.create(
        {"amount": 100, "currency": "eur"}, {"idempotency_key": "topup-1"}
    )

    assert fixed.last_response.headers.get("Idempotent-Replayed") is None
    assert available(stripe_client) == 100


def test_concurrent_requests_with_one_key_never_both_execute(
    stripe_sandbox: str,
    stripe_client: stripe.StripeClient,
    stripe_sandbox_control: SandboxControl,
):
    account = onboarded_account(stripe_client, stripe_sandbox_control)
    fund_platform(stripe_client, 1_000)
    params: dict[str, Any] = {
        "amount": 300,
        "currency": "eur",
        "destination": account.id,
    }
    stripe_sandbox_control.arm_fault("/v1/transfers", "slow", method="POST", delay_ms=400)
    outcomes: dict[str, object] = {}

    def first_request() -> None:
        outcomes["first"] = stripe_client.v1.transfers.create(params, {"idempotency_key": "item-9"})

    thread = threading.Thread(target=first_request)
    thread.start()
    time.sleep(0.1)  # the first request now holds the key, sleeping in the sandbox
    with pytest.raises(stripe.APIError) as in_use:
        stripe_client.v1.transfers.create(params, {"idempotency_key": "item-9"})
    retrying = stripe.StripeClient(
        SANDBOX_API_KEY, base_addresses={"api": stripe_sandbox}, max_network_retries=3
    )
    retried = retrying.v1.transfers.create(params, {"idempotency_key": "item-9"})
    thread.join(timeout=5)

    assert in_use.value.http_status == 409
    assert in_use.value.error.code == "idempotency_key_in_use"
    first = outcomes["first"]
    assert isinstance(first, stripe.Transfer)
    assert retried.id == first.id  # the SDK retried the 409 and got the replay
    assert len(stripe_client.v1.transfers.list().data) == 1
    assert available(stripe_client) == 700


def test_an_error_after_the_work_is_stored_so_a_retry_does_not_redo_it(
    stripe_client: stripe.StripeClient,
):
    params: dict[str, Any] = {"amount": 100, "currency": "eur", "expand": ["no_such_field"]}
    for _ in range(2):
        with pytest.raises(stripe.InvalidRequestError):
            stripe_client.v1.topups.create(params, {"idempotency_key": "topup-expand"})

    assert len(stripe_client.v1.topups.list().data) == 1
    assert available(stripe_client) == 100
