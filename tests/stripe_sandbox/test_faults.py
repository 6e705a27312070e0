"""Injected faults: each mode, and what the SDK's retries make of it."""

from __future__ import annotations

import time

import pytest
import stripe

from tests.fixtures.stripe_sandbox import SANDBOX_API_KEY, SandboxControl
from tests.stripe_sandbox.helpers import available


@pytest.mark.parametrize("status", [500, 502, 503])
def test_status_fault_answers_5xx_without_doing_the_work(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl, status: int
):
    stripe_sandbox_control.arm_fault("/v1/topups", "status", status=status)

    with pytest.raises(stripe.APIError) as failed:
        stripe_client.v1.topups.create({"amount": 100, "currency": "eur"}, {"idempotency_key": "t"})

    assert failed.value.http_status == status
    assert stripe_client.v1.topups.list().data == []
    retried = stripe_client.v1.topups.create(
        {"amount": 100, "currency": "eur"}, {"idempotency_key": "t"}
    )
    assert retried.last_response.headers.get("Idempotent-Replayed") is None  # nothing was stored
    assert available(stripe_client) == 100


def test_rate_limit_fault_is_stripes_429(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    stripe_sandbox_control.arm_fault("/v1/transfers", "status", status=429, method="GET")

    with pytest.raises(stripe.RateLimitError) as limited:
        stripe_client.v1.transfers.list()

    assert (limited.value.http_status, limited.value.error.code) == (429, "rate_limit")
    assert stripe_client.v1.transfers.list().data == []  # the fault was used up


def test_sdk_retries_through_a_5xx_and_the_work_happens_once(
    stripe_sandbox: str, stripe_sandbox_control: SandboxControl
):
    stripe_sandbox_control.arm_fault("/v1/topups", "status", status=503)
    client = stripe.StripeClient(
        SANDBOX_API_KEY, base_addresses={"api": stripe_sandbox}, max_network_retries=2
    )

    topup = client.v1.topups.create({"amount": 250, "currency": "eur"})

    assert topup.status == "succeeded"
    assert [t.id for t in client.v1.topups.list().data] == [topup.id]


def test_drop_closes_the_connection_without_doing_the_work(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    stripe_sandbox_control.arm_fault("/v1/topups", "drop")

    with pytest.raises(stripe.APIConnectionError):
        stripe_client.v1.topups.create({"amount": 100, "currency": "eur"}, {"idempotency_key": "d"})

    assert stripe_client.v1.topups.list().data == []
    assert available(stripe_client) == 0


def test_drop_after_does_the_work_and_loses_the_answer(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    stripe_sandbox_control.arm_fault("/v1/topups", "drop_after")

    with pytest.raises(stripe.APIConnectionError):
        stripe_client.v1.topups.create({"amount": 100, "currency": "eur"}, {"idempotency_key": "a"})
    [done] = stripe_client.v1.topups.list().data
    replayed = stripe_client.v1.topups.create(
        {"amount": 100, "currency": "eur"}, {"idempotency_key": "a"}
    )

    assert replayed.id == done.id
    assert replayed.last_response.headers["Idempotent-Replayed"] == "true"
    assert available(stripe_client) == 100


def test_slow_fault_delays_the_answer(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    stripe_sandbox_control.arm_fault("/v1/balance", "slow", delay_ms=300)

    started = time.monotonic()
    stripe_client.v1.balance.retrieve()
    slow_seconds = time.monotonic() - started
    started = time.monotonic()
    stripe_client.v1.balance.retrieve()
    fast_seconds = time.monotonic() - started

    assert slow_seconds >= 0.3
    assert fast_seconds < 0.3


def test_fault_counts_and_prefixes(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    stripe_sandbox_control.arm_fault("/v1/transfers/*", "status", count=2, status=500)

    for _ in range(2):
        with pytest.raises(stripe.APIError):
            stripe_client.v1.transfers.retrieve("tr_missing")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        stripe_client.v1.transfers.retrieve("tr_missing")

    assert missing.value.http_status == 404
