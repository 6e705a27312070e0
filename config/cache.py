"""What an unreachable cache raises, and a process-local note that it is down.

Redis is the cache, the rate limiter's store and the broker. When it does not
answer, each caller decides what to do (docs/operations.md, "When Redis is down");
this module only names the errors and remembers, per cache server, that a call
failed, so that for `CACHE_RETRY_SECONDS` the next requests do not each wait for a
connection timeout. The note is per process on purpose: it holds no state another
process needs, and every process finds the outage (and its end) on its own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, BaseCache, caches

logger = logging.getLogger("accord.cache")

# The Redis client wraps socket failures (refused, reset, timed out) in these.
CACHE_UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (redis.RedisError,)

_down_until: dict[str, float] = {}
T = TypeVar("T")


def _server_name(backend: BaseCache) -> str:
    """Name the backend's servers without the password a Redis URL may carry."""
    servers = getattr(backend, "_servers", None)
    if not servers:
        return type(backend).__name__
    return ",".join(
        f"{parts.scheme}://{parts.hostname}:{parts.port}{parts.path}"
        for parts in map(urlsplit, servers)
    )


def cache_retry_seconds() -> float:
    return float(getattr(settings, "CACHE_RETRY_SECONDS", 5))


def cache_down_for(backend: BaseCache) -> float:
    """Seconds until `backend` is worth trying again (0.0: try it now)."""
    until = _down_until.get(_server_name(backend), 0.0)
    return max(0.0, until - time.monotonic())


def cache_mark_down(backend: BaseCache, error: Exception) -> float:
    """Note that `backend` failed; return the seconds before it is tried again."""
    name = _server_name(backend)
    retry_seconds = cache_retry_seconds()
    if cache_down_for(backend) == 0.0:
        logger.warning(
            "cache %s is unavailable (%s: %s); next try in %.0f s",
            name,
            type(error).__name__,
            error,
            retry_seconds,
        )
    _down_until[name] = time.monotonic() + retry_seconds
    return retry_seconds


def cache_call(call: Callable[[], T], *, fallback: T) -> T:
    """Run `call` against the default cache; on an outage, now or noted, return `fallback`."""
    backend = caches[DEFAULT_CACHE_ALIAS]
    if cache_down_for(backend):
        return fallback
    try:
        return call()
    except CACHE_UNAVAILABLE_ERRORS as error:
        cache_mark_down(backend, error)
        return fallback
