"""The parsed API request a resource handler works from."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from stripe_sandbox.store import RequestContext, Store


@dataclass
class ApiRequest:
    """One /v1 call, decoded: handlers read only this and the store."""

    method: str
    path: str
    params: dict[str, Any]
    path_params: dict[str, str]
    store: Store
    context: RequestContext
    # Connected account named by the Stripe-Account header, if any.
    stripe_account: str | None = None
    # Scheme and host the caller used to reach the sandbox, for URLs it hands out.
    base_url: str = "http://127.0.0.1"
    extra: dict[str, Any] = field(default_factory=dict)
