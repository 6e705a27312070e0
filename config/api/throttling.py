"""Rate limits kept in the shared cache (Redis in production), with `Retry-After`.

DRF's own throttles keep a list of timestamps per client and rewrite it on every
request, which loses counts when two API processes write at once. These count in a
fixed window with the cache's atomic `add` and `incr` (INCR on Redis), so every
process behind the load balancer shares one exact count.

Rates are "N/period" strings (`100/s`, `600/min`, `10000/h`) named per scope in the
`ACCORD_RATE_LIMITS` setting.

When the store does not answer, reads go on unlimited and writes are refused with
`503 rate_limiter_unavailable` and `Retry-After` (docs/operations.md says why): a read
changes nothing and is cheap to serve, while a write could not be limited, and the
jobs it enqueues would meet the same dead Redis as broker. Requests with an invalid
key are counted per address (scope `invalid_key`) before their 401, and plain Django
views such as the JWKS take the same limits through `rate_limited`.
"""

from __future__ import annotations

import abc
import functools
import ipaddress
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from config.cache import CACHE_UNAVAILABLE_ERRORS, cache_down_for, cache_mark_down
from config.errors import error_body, error_type_for_status

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


class RateStoreDown(Exception):
    """The rate limiter's store did not answer; try it again in `retry_seconds`."""

    def __init__(self, retry_seconds: float) -> None:
        super().__init__(f"rate limit store unavailable; retry in {retry_seconds:.1f} s")
        self.retry_seconds = retry_seconds


class RateLimiterUnavailable(exceptions.APIException):
    status_code = 503
    default_code = "rate_limiter_unavailable"
    default_detail = (
        "Writes are paused while the rate limiter's store is unreachable; "
        "retry after the Retry-After seconds."
    )

    def __init__(self, *, wait: float) -> None:
        super().__init__()
        self.wait = wait


def guarded_window_hit(bucket: str, *, limit: int, window_seconds: int) -> float | None:
    """`window_hit`, raising `RateStoreDown` rather than waiting on a dead store."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    down_seconds = cache_down_for(backend)
    if down_seconds:
        raise RateStoreDown(down_seconds)
    try:
        return window_hit(bucket, limit=limit, window_seconds=window_seconds)
    except CACHE_UNAVAILABLE_ERRORS as error:
        raise RateStoreDown(cache_mark_down(backend, error)) from error


def scope_hit(scope: str, identity: str) -> float | None:
    """Count one request of `identity` in `scope`; seconds to wait if over its rate."""
    rate = settings.ACCORD_RATE_LIMITS.get(scope)
    if rate is None:
        return None
    limit, window_seconds = parse_rate(rate)
    return guarded_window_hit(f"{scope}:{identity}", limit=limit, window_seconds=window_seconds)


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


def client_address(request: Request | HttpRequest) -> str:
    """The caller's address; behind N trusted proxies, the Nth address from the right."""
    proxies = getattr(settings, "ACCORD_TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR", "unknown")


def login_client_address(request: HttpRequest) -> str | None:
    """The address django-axes counts a login from: `client_address`, None if not an IP.

    A request built in code (`Client.force_login`, a management command) has no
    address, and axes refuses anything that does not parse as one.
    """
    address = client_address(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


class ScopedRateThrottle(BaseThrottle, abc.ABC):
    """Limit a view's callers by the rate configured for its `throttle_scope`."""

    @abc.abstractmethod
    def identity(self, request: Request) -> str:
        """Name the caller whose requests share one count."""

    def allow_request(self, request: Request, view: Any) -> bool:
        scope = getattr(view, "throttle_scope", None) or "default"
        try:
            self._wait = scope_hit(scope, self.identity(request))
        except RateStoreDown as down:
            if request.method in SAFE_METHODS:
                return True
            raise RateLimiterUnavailable(wait=down.retry_seconds) from down
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


def invalid_key_count(request: Request) -> None:
    """Count a request whose key was refused, per address; raise `Throttled` past the rate.

    Keys are too long to guess, so this bounds what a flood of bad keys costs (a key
    lookup and a log line each), not a search. A dead store lets the 401 stand.
    """
    try:
        wait = scope_hit("invalid_key", f"address:{client_address(request)}")
    except RateStoreDown:
        return
    if wait is not None:
        raise exceptions.Throttled(
            wait=wait, detail="Too many requests with an invalid API key from this address."
        )


PlainView = Callable[..., HttpResponse]


def rate_limited(scope: str) -> Callable[[PlainView], PlainView]:
    """Limit a plain Django view per client address at `scope`'s rate, as DRF views are."""

    def decorate(view: PlainView) -> PlainView:
        @functools.wraps(view)
        def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                wait = scope_hit(scope, f"address:{client_address(request)}")
            except RateStoreDown as down:
                if request.method not in SAFE_METHODS:
                    return _plain_error(
                        503,
                        RateLimiterUnavailable.default_code,
                        str(RateLimiterUnavailable.default_detail),
                        down.retry_seconds,
                    )
                wait = None
            if wait is not None:
                return _plain_error(429, "rate_limited", "Request was throttled.", wait)
            return view(request, *args, **kwargs)

        return limited

    return decorate


def _plain_error(status: int, code: str, message: str, wait_seconds: float) -> HttpResponse:
    """The error body with `Retry-After`, for plain views (DRF's handler is not there)."""
    body = error_body(error_type=error_type_for_status(status), code=code, message=message)
    response = JsonResponse(body, status=status)
    response["Retry-After"] = str(max(1, int(wait_seconds + 0.999)))
    return response
