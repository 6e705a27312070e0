"""Stripe's API-key authentication, as the sandbox keeps it: any test-mode secret key.

Bearer (what the SDK sends) or basic auth (`curl -u sk_test_...:`); a missing key, a
live key, a publishable key or anything else is Stripe's 401. Idempotency keys are
scoped by the key, so two test suites with two keys never see each other's replays.
"""

from __future__ import annotations

import base64

from stripe_sandbox.errors import invalid_request

_API_KEY_PREFIX = "sk_test_"


def api_key(authorization: str | None) -> str:
    """Return the caller's secret key, or raise Stripe's 401."""
    if not authorization:
        raise invalid_request(
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth "
            "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            status=401,
        )
    scheme, _, credential = authorization.partition(" ")
    key = credential.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except ValueError:
            key = ""
    elif scheme.lower() != "bearer":
        key = ""
    if not key.startswith(_API_KEY_PREFIX) or len(key) <= len(_API_KEY_PREFIX):
        shown = key[:8] + "*" * 4 + key[-4:] if len(key) > 12 else "****"
        raise invalid_request(f"Invalid API Key provided: {shown}", status=401)
    return key
