"""Stripe's idempotency keys.

The rules, as Stripe documents and behaves:
- A POST with an `Idempotency-Key` runs once. A later request with the same key and
  the same endpoint and parameters gets the stored response (status, body) again,
  with `Idempotent-Replayed: true` - errors included (a declined card stays declined).
- The same key with another endpoint or other parameters is a 400 `idempotency_error`.
- While the first request is still running, a second one with the key gets a 409
  `idempotency_key_in_use` and does nothing; the SDK retries 409s, then gets the replay.
- Nothing is stored when the request never started executing (failed parameter
  validation, an injected 5xx, a dropped request): retrying with the key runs it anew.
Keys are scoped by API key, like Stripe scopes them by account, and live until
reset (Stripe keeps them at least 24 hours; a sandbox run is shorter than that).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

KEY_CHARS_MAX = 255
ENTRIES_MAX = 100_000


@dataclass(frozen=True)
class StoredResponse:
    """A finished response, kept for replay."""

    status: int
    body: bytes
    request_id: str


@dataclass(frozen=True)
class Execute:
    """No response yet: run the request, then call `finish`."""


@dataclass(frozen=True)
class Replay:
    """Answer with the stored response."""

    response: StoredResponse


@dataclass(frozen=True)
class Mismatch:
    """The key was first used with another endpoint or other parameters."""


@dataclass(frozen=True)
class InUse:
    """Another request holding the key is still running."""


Outcome = Execute | Replay | Mismatch | InUse


@dataclass
class _Entry:
    fingerprint: str
    response: StoredResponse | None  # None while the first request runs


def fingerprint(method: str, path: str, stripe_account: str | None, params: dict[str, Any]) -> str:
    """Identify a request by endpoint, acting account and parameters (order-insensitive)."""
    return json.dumps([method, path, stripe_account, params], sort_keys=True, separators=(",", ":"))


class IdempotencyKeys:
    """Keys seen so far and the responses they produced; safe across threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, str], _Entry] = OrderedDict()

    def begin(self, scope: str, key: str, request_fingerprint: str) -> Outcome:
        """Claim `key` for a request, or say why it must not run."""
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is None:
                self._entries[(scope, key)] = _Entry(request_fingerprint, None)
                while len(self._entries) > ENTRIES_MAX:
                    self._entries.popitem(last=False)  # bound memory: forget the oldest key
                return Execute()
            if entry.fingerprint != request_fingerprint:
                return Mismatch()
            if entry.response is None:
                return InUse()
            return Replay(entry.response)

    def finish(self, scope: str, key: str, response: StoredResponse | None) -> None:
        """Store the response for replay, or release the key when nothing should be kept."""
        with self._lock:
            entry = self._entries.get((scope, key))
            if entry is None:
                return  # a reset happened while the request ran
            assert entry.response is None, "a key is finished once"
            if response is None:
                del self._entries[(scope, key)]
            else:
                entry.response = response

    def reset(self) -> None:
        """Forget every key."""
        with self._lock:
            self._entries.clear()
