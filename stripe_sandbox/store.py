"""The sandbox's state: every object, the balances, and the event log.

One `Store` holds everything in memory behind one re-entrant lock. Handlers run
with the lock held, so each API call is atomic exactly as a Stripe API call is:
a transfer checks the balance and debits it in one step, and two concurrent
transfers can never both spend the same funds. The lock is never held while
sleeping (slow faults) or while delivering webhooks.

Objects are plain JSON-ready dicts shaped as Stripe returns them. Listing order is
insertion order, not `created`, because many objects share one second; each type
keeps its own list of ids, so listing one type never walks the others (a payout run
leaves four objects per transfer behind).
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


_ID_RANDOM_BITS = 160  # far above log2(62**23) ~ 137, so the 23 digits are all but uniform


def new_id(prefix: str) -> str:
    """Return a Stripe-looking id (`tr_1Q...`): the prefix names the object type."""
    # One draw from the OS generator, spelled in base 62 (one draw per character cost
    # a third of a transfer's handling).
    number = secrets.randbits(_ID_RANDOM_BITS)
    characters = []
    for _ in range(_ID_CHARS - 1):
        number, digit = divmod(number, len(_ID_ALPHABET))
        characters.append(_ID_ALPHABET[digit])
    return f"{prefix}_1" + "".join(characters)


CLOCK_ADVANCE_SECONDS_MAX = 10 * 366 * 24 * 3600


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
    # Ids of each object type, oldest first.
    ids_by_type: dict[str, list[str]] = field(default_factory=dict)
    # Balance per owner (PLATFORM or a connected account id), per currency.
    balances: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    balance_transaction_owner: dict[str, str] = field(default_factory=dict)
    onboarding_links: dict[str, OnboardingLink] = field(default_factory=dict)
    event_listeners: list[Callable[[dict[str, Any]], None]] = field(default_factory=list)
    # How many webhook endpoints an event starts out pending on (set by the webhooks module).
    endpoint_count: Callable[[], int] = field(default=lambda: 0)
    # Seconds the sandbox's clock runs ahead of the wall clock (`POST /_sandbox/clock`).
    clock_offset_seconds: int = 0

    def now(self) -> int:
        """Return the sandbox's Unix time in seconds, Stripe's unit for `created`."""
        return int(time.time()) + self.clock_offset_seconds

    def advance_clock(self, seconds: int) -> int:
        """Move the sandbox's clock forward (so objects made next are `created` later)."""
        assert 0 <= seconds <= CLOCK_ADVANCE_SECONDS_MAX
        with self.lock:
            self.clock_offset_seconds = min(
                self.clock_offset_seconds + seconds, CLOCK_ADVANCE_SECONDS_MAX
            )
            return self.now()

    def reset(self) -> None:
        """Forget every object, balance and link, and put the clock back (listeners stay)."""
        with self.lock:
            self.clock_offset_seconds = 0
            self.objects.clear()
            self.ids_by_type.clear()
            self.balances.clear()
            self.balance_transaction_owner.clear()
            self.onboarding_links.clear()

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Store a new object under its id and return it."""
        assert obj["id"] not in self.objects, "ids are random and never reused"
        if len(self.objects) >= OBJECTS_MAX:
            raise MemoryError("stripe sandbox holds too many objects; POST /_sandbox/reset")
        self.objects[obj["id"]] = obj
        self.ids_by_type.setdefault(obj["object"], []).append(obj["id"])
        return obj

    def get(self, object_id: str, object_type: str) -> dict[str, Any] | None:
        """Return the stored object with this id and type, or None."""
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != object_type:
            return None
        return obj

    def all(self, object_type: str) -> list[dict[str, Any]]:
        """Return every object of a type, newest first, as Stripe lists them."""
        ids = self.ids_by_type.get(object_type, [])
        return [self.objects[object_id] for object_id in reversed(ids)]

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
            "created": self.now(),
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
            listener(event)  # with the lock held: a listener serialises, never keeps, it
        return event

    def event_delivered(self, event_id: str) -> None:
        """Count one endpoint's first successful delivery off the event's `pending_webhooks`."""
        with self.lock:
            event = self.get(event_id, "event")
            if event is not None and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1
