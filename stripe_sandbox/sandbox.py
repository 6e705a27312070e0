"""One running sandbox: its state, idempotency keys, faults, rate limit and webhook dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from stripe_sandbox.faults import FaultTable
from stripe_sandbox.idempotency import IdempotencyKeys
from stripe_sandbox.ratelimit import RateLimiter, RequestStats
from stripe_sandbox.store import Store
from stripe_sandbox.webhooks import WebhookDispatcher


@dataclass
class Sandbox:
    """Everything a sandbox server holds; `reset` returns it to a fresh start."""

    store: Store = field(default_factory=Store)
    keys: IdempotencyKeys = field(default_factory=IdempotencyKeys)
    faults: FaultTable = field(default_factory=FaultTable)
    webhooks: WebhookDispatcher = field(default_factory=WebhookDispatcher)
    limiter: RateLimiter = field(default_factory=RateLimiter)
    stats: RequestStats = field(default_factory=RequestStats)

    def __post_init__(self) -> None:
        self.store.event_listeners.append(self.webhooks.enqueue)
        self.store.endpoint_count = self.webhooks.endpoint_count
        self.webhooks.on_delivered = self.store.event_delivered

    def reset(self) -> None:
        """Forget all objects, keys, faults, deliveries, counts and non-permanent endpoints.

        The rate limit returns to the one the sandbox started with.
        """
        with self.store.lock:
            self.store.reset()
            self.keys.reset()
            self.faults.reset()
            self.webhooks.reset()
            self.limiter.reset()
            self.stats.reset()

    def close(self) -> None:
        """Stop background work."""
        self.webhooks.stop()
