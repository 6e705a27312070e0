"""One running sandbox: its state, idempotency keys, faults and webhook dispatcher."""

from __future__ import annotations

from dataclasses import dataclass, field

from stripe_sandbox.faults import FaultTable
from stripe_sandbox.idempotency import IdempotencyKeys
from stripe_sandbox.store import Store
from stripe_sandbox.webhooks import WebhookDispatcher


@dataclass
class Sandbox:
    """Everything a sandbox server holds; `reset` returns it to a fresh start."""

    store: Store = field(default_factory=Store)
    keys: IdempotencyKeys = field(default_factory=IdempotencyKeys)
    faults: FaultTable = field(default_factory=FaultTable)
    webhooks: WebhookDispatcher = field(default_factory=WebhookDispatcher)

    def __post_init__(self) -> None:
        self.store.event_listeners.append(self.webhooks.enqueue)
        self.store.endpoint_count = self.webhooks.endpoint_count

    def reset(self) -> None:
        """Forget all objects, keys, faults, pending deliveries and non-permanent endpoints."""
        with self.store.lock:
            self.store.reset()
            self.keys.reset()
            self.faults.reset()
            self.webhooks.reset()

    def close(self) -> None:
        """Stop background work."""
        self.webhooks.stop()
