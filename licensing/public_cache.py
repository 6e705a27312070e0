"""The cache in front of the public endpoints, and how a catalogue change empties it.

Public answers (registry lookups, RSL documents, TDMRep rules, work pages) are cached
under keys that embed a catalogue *generation* number. Every service that changes
what the public sees bumps the generation, so every cached answer is stale at once
and nothing has to know which keys a change touched (a work's identifiers, its
collections' offers, …). It bumps twice: when the change is made, and again after
its transaction commits, because a read between the first bump and the commit could
cache the old state anew.

The generation lives in the shared cache (Redis in production), so every API process
sees the same one; it starts from the clock so that an evicted counter never
returns to a value some stale answer was cached under. While the cache is down,
answers are built for every request and nothing is cached (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import TypeVar

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from config.cache import cache_call

_GENERATION_KEY = "licensing:public:generation"
T = TypeVar("T")


def public_cache_seconds() -> int:
    return getattr(settings, "ACCORD_PUBLIC_CACHE_SECONDS", 300)


def _generation() -> int:
    generation = cache.get(_GENERATION_KEY)
    if generation is None:
        # Start from the clock, never from 1: if the counter was evicted, answers
        # cached under its old values must not come back to life.
        cache.add(_GENERATION_KEY, time.time_ns(), timeout=None)
        generation = cache.get(_GENERATION_KEY, 0)
    return int(generation)


def _bump() -> None:
    try:
        cache.incr(_GENERATION_KEY)
    except ValueError:
        # The counter was evicted between the read and the bump: restart from the clock.
        cache.set(_GENERATION_KEY, time.time_ns(), timeout=None)


def public_cache_invalidate() -> None:
    """Make every cached public answer stale, now and again once the transaction commits.

    The first bump makes this process's later reads (in the same transaction) see the
    change; the second discards whatever a concurrent reader cached from the old state
    between the two.
    """
    cache_call(_bump, fallback=None)
    transaction.on_commit(lambda: cache_call(_bump, fallback=None))


def public_cached(parts: tuple[str, ...], build: Callable[[], T]) -> T:
    """Return the cached answer for `parts`, building and storing it on a miss."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    generation = cache_call(_generation, fallback=None)
    if generation is None:
        return build()
    key = f"licensing:public:{generation}:{digest}"
    value = cache_call(lambda: cache.get(key), fallback=None)
    if value is None:
        value = build()
        cache_call(lambda: cache.set(key, value, public_cache_seconds()), fallback=None)
    return value
