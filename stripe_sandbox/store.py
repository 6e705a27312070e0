"""The sandbox's state: every object, the balances, and the event log.

One `Store` holds everything in memory behind one re-entrant lock. Handlers run
with the lock held, so each API call is atomic exactly as a Stripe API call is:
a transfer checks the balance and debits it in one step, and two concurrent
transfers can never both spend the same funds. The lock is never held while
sleeping (slow faults) or while delivering webhooks.

Objects are plain JSON-ready dicts shaped as Stripe returns them. Listing order is
an insertion sequence, not `created`, because many objects share one second.
"""

from __future__ import annotations

import copy
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

PLATFORM = "platform"
# An API version for events when the caller sent no Stripe-Version header.
DEFAULT_API_VERSION = "2025-03-31.basil"
_ID_ALPHABET = string.ascii_letters + string.digits
_ID_CHARS = 24
OBJECTS_MAX = 1_000_000


def new_id(prefix: str) -> str:
    """Return a Stripe-looking id (`tr_1Q...`): the prefix names the object type."""
    return f"{prefix}_1" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(_ID_CHARS - 1))


def now() -> int:
    """Return the current Unix time in seconds, Stripe's unit for `created`."""
    return int(time.time())


@dataclass
class RequestContext:
    """What an event records about the API request that caused it."""

    request_id: str | None = None
    idempotency_key: str | None = None
    api_version: str = DEFAULT_API_VERSION


@dataclass
class OnboardingLink:
    """An AccountLink's private side: which account its page onboards, and until when."""

    account: str
    link_type: str
    refresh_url: str | None
    return_url: str | None
    expires_at: int
    used: bool = False


@dataclass
class Store:
    """All sandbox state; call methods with `lock` held."""

    lock: threading.RLock = field(default_factory=threading.RLock)
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    sequence: dict[str, int] = field(default_factory=dict)
    # Balance per owner (PLATFORM or a connected account id), per currency.
    balances: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    balance_transaction_owner: dict[str, str] = field(default_factory=dict)
    onboarding_links: dict[str, OnboardingLink] = field(default_factory=dict)
    event_listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    # How many webhook endpoints an event starts out pending on (set by the webhooks module).
    endpoint_count: Callable[[], int] = field(default=lambda: 0)
    _next_sequence: int = 0

    def reset(self) -> None:
        """Forget every object, balance and link (listeners stay)."""
        with self.lock:
            self.objects.clear()
            self.sequence.clear()
            self.balances.clear()
            self.balance_transaction_owner.clear()
            self.onboarding_links.clear()

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object under its id and return it."""
        assert obj["id"] not in self.objects, "ids are random and never reused"
        if len(self.objects) >= OBJECTS_MAX:
            raise MemoryError("stripe sandbox holds too many objects; POST /_sandbox/reset")
        self.objects[obj["id"]] = obj
        self.sequence[obj["id"]] = self._next_sequence
        self._next_sequence += 1
        return obj

    def get(self, object_id: str, object_type: str) -> dict[str, Any] | None:
        """Return the stored object with this id and type, or None."""
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != object_type:
            return None
        return obj

    def all(self, object_type: str) -> list[dict[str, Any]]:
        """Return every object of a type, newest first, as Stripe lists them."""
        found = [obj for obj in self.objects.values() if obj.get("object") == object_type]
        found.sort(key=lambda obj: self.sequence[obj["id"]], reverse=True)
        return found

    def balance_of(self, owner: str, currency: str) -> dict[str, int]:
        """Return the mutable {available, pending} amounts of one owner in one currency."""
        per_currency = self.balances.setdefault(owner, {})
        return per_currency.setdefault(currency, {"available": 0, "pending": 0})

    def emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        context: RequestContext | None,
        *,
        previous_attributes: dict[str, Any] | None = None,
        account: str | None = None,
    ) -> dict[str, Any]:
        """Record an event carrying a snapshot of `obj` and hand it to the listeners."""
        context = context or RequestContext()
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event: dict[str, Any] = {
            "id": new_id("evt"),
            "object": "event",
            "api_version": context.api_version,
            "created": now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": self.endpoint_count(),
            "request": {"id": context.request_id, "idempotency_key": context.idempotency_key},
            "type": event_type,
        }
        if account is not None:
            event["account"] = account
        self.add(event)
        for listener in self.event_listeners:
            listener(copy.deepcopy(event))
        return event
