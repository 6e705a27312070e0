"""Rate limits kept in the shared cache (Redis in production), with `Retry-After`.

DRF's own throttles keep a list of timestamps per client and rewrite it on every
request, which loses counts when two API processes write at once. These count in a
fixed window with the cache's atomic `add` and `incr` (INCR on Redis), so every
process behind the load balancer shares one exact count.

Rates are "N/period" strings (`100/s`, `600/min`, `10000/h`) named per scope in the
`ACCORD_RATE_LIMITS` setting.
"""

from __future__ import annotations

import abc
import time
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

_PERIOD_SECONDS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}


def parse_rate(rate: str) -> tuple[int, int]:
    """Turn `600/min` into (600, 60)."""
    count, _, period = rate.partition("/")
    if not count.isdigit() or period not in _PERIOD_SECONDS or int(count) < 1:
        raise ValueError(f"rate {rate!r} is not of the form N/s, N/min, N/h or N/day")
    return int(count), _PERIOD_SECONDS[period]


def window_hit(
    bucket: str, *, limit: int, window_seconds: int, now: float | None = None
) -> float | None:
    """Count one request in `bucket`; return seconds to wait if over the limit, else None."""
    now = time.time() if now is None else now
    window_start = int(now // window_seconds) * window_seconds
    # The key outlives its window a little so a slow clock on another process still finds it.
    count = _count_one(f"ratelimit:{bucket}:{window_start}", timeout=window_seconds + 5)
    if count <= limit:
        return None
    return max(0.001, window_start + window_seconds - now)


def _count_one(key: str, *, timeout: int) -> int:
    """Add one to a count that expires `timeout` seconds after it was opened."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        return _redis_count_one(backend, key, timeout=timeout)
    backend.add(key, 0, timeout=timeout)
    try:
        return backend.incr(key)
    except ValueError:  # expired between add and incr: this request opens a new count
        backend.add(key, 1, timeout=timeout)
        return 1


def _redis_count_one(backend: RedisCache, key: str, *, timeout: int) -> int:
    # Django's add + incr cost three round trips (SET NX, EXISTS, INCRBY) on every
    # request; INCR creates a missing key at 1 and EXPIRE NX dates only a new one, in
    # one MULTI. Django stores integers unpickled, so cache.get still reads the count.
    full_key = backend.make_and_validate_key(key)
    client = _redis_client(backend._cache._get_connection_pool(write=True))
    with client.pipeline(transaction=True) as pipeline:
        count, _ = pipeline.incr(full_key).expire(full_key, timeout, nx=True).execute()
    return count


@lru_cache(maxsize=8)
def _redis_client(pool: redis.ConnectionPool) -> redis.Redis:
    """One client per connection pool: Django's cache makes a new one per call, and a
    redis-py client costs more to build than the round trip it is built for."""
    return redis.Redis(connection_pool=pool)


def client_address(request: Request) -> str:
    """The caller's address; behind N trusted proxies, the Nth address from the right."""
    proxies = getattr(settings, "ACCORD_TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


class ScopedRateThrottle(BaseThrottle, abc.ABC):
    """Limit a view's callers by the rate configured for its `throttle_scope`."""

    @abc.abstractmethod
    def identity(self, request: Request) -> str:
        """Name the caller whose requests share one count."""

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None) or "default"
        rate = settings.ACCORD_RATE_LIMITS.get(scope)
        if rate is None:
            return True
        limit, window_seconds = parse_rate(rate)
        self._wait = window_hit(
            f"{scope}:{self.identity(request)}", limit=limit, window_seconds=window_seconds
        )
        return self._wait is None

    def wait(self) -> float | None:
        return getattr(self, "_wait", None)


class ApiKeyRateThrottle(ScopedRateThrottle):
    """Per API key; unauthenticated requests are counted by address."""

    def identity(self, request: Request) -> str:
        key_id = getattr(request.auth, "pk", None)
        return f"key:{key_id}" if key_id is not None else f"address:{client_address(request)}"


class ClientAddressRateThrottle(ScopedRateThrottle):
    """Per client address, for the public endpoints that need no key."""

    def identity(self, request: Request) -> str:
        return f"address:{client_address(request)}"
