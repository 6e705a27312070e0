"""The Stripe request budget: one token bucket in Redis, shared by every taker."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import pytest

from payouts.stripe_rate_limit import stripe_request_token_take


def _take_all(count: int, threads: int) -> float:
    started = time.monotonic()

    def take() -> None:
        for _ in range(count // threads):
            stripe_request_token_take()

    workers = [threading.Thread(target=take) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.monotonic() - started


@pytest.mark.redis
def test_takers_together_stay_at_the_rate(settings: Any) -> None:
    settings.STRIPE_RATE_LIMIT_KEY = f"accord:test-bucket:{uuid.uuid4().hex}"
    settings.STRIPE_REQUESTS_PER_SECOND = 100
    settings.STRIPE_REQUESTS_BURST = 1
    elapsed = _take_all(60, threads=3)
    # 60 tokens at 100/s, the first at once: 0.59 s at the least.
    assert 0.58 <= elapsed < 1.5


def test_without_redis_the_process_keeps_the_bucket(settings: Any) -> None:
    settings.REDIS_URL = ""
    settings.STRIPE_REQUESTS_PER_SECOND = 200
    elapsed = _take_all(40, threads=2)
    assert 0.19 <= elapsed < 1.0
