"""The optional rate limit: Stripe's test-mode 429 above N reads or writes a second."""

from __future__ import annotations

import pytest
import stripe

from stripe_sandbox import RunningSandbox
from stripe_sandbox.ratelimit import RateLimiter
from tests.fixtures.stripe_sandbox import SandboxControl


class FakeClock:
    """Monotonic seconds that move only when the test says."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(stripe_sandbox_server: RunningSandbox, monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(stripe_sandbox_server.sandbox.limiter, "clock", fake)
    return fake


def test_there_is_no_limit_by_default(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl
):
    assert stripe_sandbox_control.get("/_sandbox/rate_limit")["per_second"] is None

    for _ in range(40):
        stripe_client.v1.balance.retrieve()

    assert stripe_sandbox_control.stats()["rate_limited"] == 0


def test_writes_above_the_limit_are_stripes_429_and_do_nothing(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl, clock: FakeClock
):
    stripe_sandbox_control.set_rate_limit(3)

    for _ in range(3):
        stripe_client.v1.topups.create({"amount": 100, "currency": "eur"})
    clock.now += 0.9
    with pytest.raises(stripe.RateLimitError) as limited:
        stripe_client.v1.topups.create({"amount": 100, "currency": "eur"})

    assert (limited.value.http_status, limited.value.error.code) == (429, "rate_limit")
    assert len(stripe_client.v1.topups.list().data) == 3  # reads have their own window
    clock.now += 0.1  # the first three writes leave the one-second window
    stripe_client.v1.topups.create({"amount": 100, "currency": "eur"})
    stats = stripe_sandbox_control.stats()
    assert (stats["requests"], stats["rate_limited"]) == (6, 1)
    assert stats["by_route"] == {"GET /v1/topups": 1, "POST /v1/topups": 5}


def test_reads_are_limited_apart_from_writes(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl, clock: FakeClock
):
    stripe_sandbox_control.set_rate_limit(2)
    stripe_client.v1.balance.retrieve()
    stripe_client.v1.balance.retrieve()

    with pytest.raises(stripe.RateLimitError):
        stripe_client.v1.balance.retrieve()
    stripe_client.v1.customers.create({})  # a write still goes through


def test_a_reset_lifts_a_limit_set_through_the_control_api(
    stripe_client: stripe.StripeClient, stripe_sandbox_control: SandboxControl, clock: FakeClock
):
    stripe_sandbox_control.set_rate_limit(1)
    stripe_client.v1.balance.retrieve()
    with pytest.raises(stripe.RateLimitError):
        stripe_client.v1.balance.retrieve()

    stripe_sandbox_control.reset()

    stripe_client.v1.balance.retrieve()
    assert stripe_sandbox_control.stats() == {
        "requests": 1,
        "rate_limited": 0,
        "by_route": {"GET /v1/balance": 1},
    }


@pytest.mark.parametrize("per_second", [0, -5, 100_001, "25", True])
def test_bad_limits_are_refused(stripe_sandbox_control: SandboxControl, per_second: object):
    with pytest.raises(AssertionError, match="per_second"):
        stripe_sandbox_control.set_rate_limit(per_second)  # type: ignore[arg-type]
    assert stripe_sandbox_control.get("/_sandbox/rate_limit")["per_second"] is None


def test_the_window_slides():
    clock = FakeClock()
    limiter = RateLimiter(25, clock=clock)

    admitted = 0
    for _ in range(100):  # 100 writes spread over two seconds, 50 a second
        admitted += limiter.admit("POST")
        clock.now += 0.02

    assert admitted == 50  # 25 in each second, never more in any one-second window
