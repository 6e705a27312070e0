"""The Stripe gateway's errors: one vocabulary of failures, each with a stable code.

`stripe.StripeError`s become `CardDeclined`, `InsufficientBalance`, `AccountNotReady`,
`GatewayUnavailable` (retry later, same key) or a plain `GatewayError`, each with a
`retryable` flag; `gateway_errors_translated()` does the translating around SDK calls.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterator

import stripe

from config.errors import DomainError


class GatewayErrorCode(enum.StrEnum):
    CARD_DECLINED = "card_declined"
    INSUFFICIENT_BALANCE = "insufficient_balance"
    ACCOUNT_NOT_READY = "account_not_ready"
    NOT_FOUND = "stripe_object_not_found"
    UNAVAILABLE = "stripe_unavailable"
    IDEMPOTENCY_MISMATCH = "idempotency_key_mismatch"
    INVALID_REQUEST = "stripe_invalid_request"
    AUTHENTICATION = "stripe_authentication_failed"
    SIGNATURE_INVALID = "signature_invalid"


class GatewayError(DomainError):
    """Stripe refused or failed a request; `stripe_code` is Stripe's own code, if any."""

    http_status = 502
    retryable = False

    def __init__(
        self,
        code: GatewayErrorCode,
        message: str,
        *,
        stripe_code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(code, message, param=param)
        self.stripe_code = stripe_code


class CardDeclined(GatewayError):
    """The card was declined; the PaymentIntent stays `requires_payment_method`."""

    http_status = 402

    def __init__(self, message: str, *, decline_code: str | None, payment_intent_id: str | None):
        super().__init__(GatewayErrorCode.CARD_DECLINED, message, stripe_code="card_declined")
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class InsufficientBalance(GatewayError):
    """The platform's available balance does not cover the transfer (top up, then retry)."""

    http_status = 409


class AccountNotReady(GatewayError):
    """The connected account has not finished onboarding, so it cannot receive transfers."""

    http_status = 409


class GatewayUnavailable(GatewayError):
    """Stripe could not be reached or answered 5xx/429 after the SDK's retries.

    The request may or may not have been done: retry later with the same key.
    """

    http_status = 503
    retryable = True


class WebhookSignatureInvalid(GatewayError):
    """A webhook's `Stripe-Signature` is missing, forged or too old."""

    http_status = 400


def _stripe_code(error: stripe.StripeError) -> str | None:
    return error.code or (error.error.code if error.error is not None else None)


def error_translate(error: stripe.StripeError) -> GatewayError:
    """Map an SDK error to the gateway's own exception."""
    code = _stripe_code(error)
    message = error.user_message or str(error)
    param = getattr(error, "param", None)  # only InvalidRequestError and CardError have one
    if isinstance(error, stripe.CardError):
        intent = error.error.payment_intent if error.error is not None else None
        return CardDeclined(
            message,
            decline_code=error.error.decline_code if error.error is not None else None,
            payment_intent_id=intent.id if intent is not None else None,
        )
    if (
        isinstance(error, (stripe.APIConnectionError, stripe.RateLimitError))
        or (isinstance(error, stripe.APIError) and (error.http_status or 500) >= 409)
        # The key's first request still runs (a concurrent dispatch): its outcome is
        # unknown yet, so the same key must be tried again later.
        or code in {"idempotency_key_in_use", "lock_timeout", "rate_limit"}
    ):
        return GatewayUnavailable(GatewayErrorCode.UNAVAILABLE, message, stripe_code=code)
    if isinstance(error, stripe.IdempotencyError):
        return GatewayError(GatewayErrorCode.IDEMPOTENCY_MISMATCH, message, stripe_code=code)
    if isinstance(error, (stripe.AuthenticationError, stripe.PermissionError)):
        return GatewayError(GatewayErrorCode.AUTHENTICATION, message, stripe_code=code)
    if code == "balance_insufficient":
        return InsufficientBalance(GatewayErrorCode.INSUFFICIENT_BALANCE, message, stripe_code=code)
    if code == "insufficient_capabilities_for_transfer":
        return AccountNotReady(GatewayErrorCode.ACCOUNT_NOT_READY, message, stripe_code=code)
    if code == "resource_missing":
        return GatewayError(GatewayErrorCode.NOT_FOUND, message, stripe_code=code, param=param)
    return GatewayError(GatewayErrorCode.INVALID_REQUEST, message, stripe_code=code, param=param)


@contextlib.contextmanager
def gateway_errors_translated() -> Iterator[None]:
    try:
        yield
    except stripe.SignatureVerificationError:
        raise  # handled by signatures.webhook_event_verify, never escapes it
    except stripe.StripeError as error:
        raise error_translate(error) from error
