"""Shim: `payouts.stripe_gateway` became `payouts.stripe` (`gateway`, `errors`, `results`).

Re-exports the three so the old `stripe_gateway.<name>` keeps working until the
parallel branches have merged.
"""

from payouts.stripe.errors import *  # noqa: F403
from payouts.stripe.gateway import *  # noqa: F403
from payouts.stripe.gateway import (  # noqa: F401
    IDEMPOTENCY_KEY_CHARS_MAX,
    LIST_LIMIT_MAX,
    NETWORK_RETRIES_MAX,
    REQUEST_TIMEOUT_SECONDS,
    STRIPE_API_ADDRESS,
    WEBHOOK_TOLERANCE_SECONDS,
    _client,
    _http_client,
)
from payouts.stripe.results import *  # noqa: F403
