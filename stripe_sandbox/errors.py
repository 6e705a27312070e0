"""Stripe-shaped errors raised by sandbox handlers.

Handlers raise `StripeError`; the server turns it into Stripe's body
`{"error": {"type", "code", "message", "param", ...}}` with Stripe's HTTP status,
so the official SDK maps it to the same exception class it would get from Stripe
(`InvalidRequestError`, `CardError`, `IdempotencyError`, `RateLimitError`...).

`stored` says whether the idempotency layer keeps the response for replay. Stripe
saves a result only once the endpoint began executing: a request that failed
parameter validation is not saved, so fixing the parameters and retrying with the
same key works. Errors that come out of the work itself (a declined card, an
insufficient balance) are saved and replayed like a success.
"""

from __future__ import annotations

from typing import Any


class StripeError(Exception):
    """An API error with Stripe's status, type, code, message and param."""

    def __init__(
        self,
        status: int,
        error_type: str,
        message: str,
        *,
        code: str | None = None,
        param: str | None = None,
        extra: dict[str, Any] | None = None,
        stored: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_type = error_type
        self.message = message
        self.code = code
        self.param = param
        self.extra = extra or {}
        self.stored = stored

    def body(self) -> dict[str, Any]:
        """Return the JSON body Stripe sends for this error."""
        error: dict[str, Any] = {"type": self.error_type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = "https://stripe.com/docs/error-codes/" + self.code.replace("_", "-")
        if self.param is not None:
            error["param"] = self.param
        error.update(self.extra)
        return {"error": error}


def invalid_request(
    message: str,
    *,
    code: str | None = None,
    param: str | None = None,
    status: int = 400,
    stored: bool = True,
) -> StripeError:
    """Build an `invalid_request_error` (Stripe's 4xx for a request that cannot be done)."""
    return StripeError(
        status, "invalid_request_error", message, code=code, param=param, stored=stored
    )


def parameter_missing(name: str) -> StripeError:
    """A required parameter is absent; validation error, so never stored."""
    return invalid_request(
        f"Missing required param: {name}.", code="parameter_missing", param=name, stored=False
    )


def parameter_unknown(name: str) -> StripeError:
    """A parameter the endpoint does not take; Stripe rejects these rather than ignore them."""
    return invalid_request(
        f"Received unknown parameter: {name}", code="parameter_unknown", param=name, stored=False
    )


def parameter_invalid(
    name: str, message: str, code: str = "parameter_invalid_string"
) -> StripeError:
    """A parameter with a value of the wrong form; validation error, so never stored."""
    return invalid_request(message, code=code, param=name, stored=False)


def resource_missing(kind: str, object_id: str, param: str = "id") -> StripeError:
    """Stripe's 404 for an id that names nothing (also for a bad list cursor)."""
    return invalid_request(
        f"No such {kind}: '{object_id}'", code="resource_missing", param=param, status=404
    )


def rate_limit() -> StripeError:
    """Stripe's 429 for a request over the rate limit (the SDK raises RateLimitError)."""
    return StripeError(
        429,
        "invalid_request_error",
        "Request rate limit exceeded. Learn more about rate limits here "
        "https://stripe.com/docs/rate-limits.",
        code="rate_limit",
    )


def injected(status: int) -> StripeError:
    """The answer of an armed `status` fault: Stripe's 429, or its 5xx `api_error`."""
    if status == 429:
        return rate_limit()
    return StripeError(
        status,
        "api_error",
        "An unknown error occurred while processing your request (injected by the Stripe sandbox).",
    )


def idempotency_key_mismatch(key: str) -> StripeError:
    """A key reused with other parameters or on another endpoint."""
    return StripeError(
        400,
        "idempotency_error",
        "Keys for idempotent requests can only be used with the same parameters they were "
        f"first used with. Try using a key other than '{key}' if you meant to execute a "
        "different request.",
    )


def idempotency_key_in_use(key: str) -> StripeError:
    """A key whose first request is still running (the SDK retries 409s)."""
    return invalid_request(
        "There is currently another in-progress request using this Idempotent Key (that "
        "probably means you submitted twice, and the other request is still going "
        f"through): {key}. Please try again later.",
        code="idempotency_key_in_use",
        status=409,
    )
