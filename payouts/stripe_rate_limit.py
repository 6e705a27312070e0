"""One budget of Stripe requests a second, shared by every worker: a Redis token bucket.

Stripe's test mode answers 429 above 25 requests a second, counted for the whole
platform account, not per process; so the budget lives in Redis and each request
takes a token first. The bucket is kept as a generic cell rate algorithm (GCRA): one
key holding the "theoretical arrival time" of the next token, moved by a Lua script
that reads Redis's own clock, so workers on other machines with skewed clocks agree.
A caller *reserves* its slot in one round trip and sleeps until it comes, instead of
polling; reservations further ahead than `RESERVATION_AHEAD_MAX_SECONDS` are refused
so a crowd of workers cannot queue up minutes of requests.

`STRIPE_REQUESTS_PER_SECOND` (default 25) is the rate; `STRIPE_REQUESTS_BURST`
(default 1) how many tokens may be taken at once after a quiet spell. A burst of 1
spaces requests evenly, which is what keeps a sliding one-second window (Stripe's,
and the sandbox's) at or under the rate.

Without Redis (the embedded default) the bucket is kept in the process.
"""

from __future__ import annotations

import functools
import threading
import time

import redis
from django.conf import settings

RESERVATION_AHEAD_MAX_SECONDS = 2.0

# KEYS[1]: the bucket. ARGV: interval (µs per token), burst tolerance (µs), the
# furthest reservation ahead (µs), the key's lifetime (ms).
# Returns {reserved (1/0), wait in µs}.
_RESERVE_LUA = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000000 + tonumber(now_parts[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local ahead_max = tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
if wait > ahead_max then return {0, wait - ahead_max} end
redis.call('SET', KEYS[1], tat + interval, 'PX', tonumber(ARGV[4]))
return {1, wait}
"""


@functools.lru_cache(maxsize=4)
def _redis(url: str) -> tuple[redis.Redis, object]:
    client = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
    return client, client.register_script(_RESERVE_LUA)


class _LocalBucket:
    """The same algorithm for one process (no Redis configured)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tat = 0.0

    def reserve(self, interval: float, tolerance: float) -> tuple[bool, float]:
        with self._lock:
            now = time.monotonic()
            tat = max(self._tat, now)
            wait = max(0.0, tat - tolerance - now)
            if wait > RESERVATION_AHEAD_MAX_SECONDS:
                return False, wait - RESERVATION_AHEAD_MAX_SECONDS
            self._tat = tat + interval
            return True, wait


_local_bucket = _LocalBucket()


def _reserve(rate_per_second: float, burst: int) -> tuple[bool, float]:
    interval = 1.0 / rate_per_second
    tolerance = interval * (burst - 1)
    url = settings.REDIS_URL
    if not url:
        return _local_bucket.reserve(interval, tolerance)
    _, script = _redis(url)
    reserved, wait_us = script(  # type: ignore[operator]
        keys=[settings.STRIPE_RATE_LIMIT_KEY],
        args=[
            int(interval * 1_000_000),
            int(tolerance * 1_000_000),
            int(RESERVATION_AHEAD_MAX_SECONDS * 1_000_000),
            int((RESERVATION_AHEAD_MAX_SECONDS + 60) * 1000),
        ],
    )
    return bool(reserved), int(wait_us) / 1_000_000


def stripe_request_token_take() -> float:
    """Block until this process may send one request to Stripe; return the seconds waited."""
    rate = float(settings.STRIPE_REQUESTS_PER_SECOND)
    assert rate > 0, rate
    burst = max(1, int(settings.STRIPE_REQUESTS_BURST))
    waited = 0.0
    for _ in range(10_000):  # bounded: at most ~10,000 times 2 s of queueing
        reserved, wait = _reserve(rate, burst)
        if wait > 0:
            time.sleep(wait)
            waited += wait
        if reserved:
            return waited
    raise RuntimeError("the Stripe request budget never freed up")
