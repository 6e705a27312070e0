"""A webhook's signature: checked with STRIPE_WEBHOOK_SECRET before anything is stored.

The one Stripe call that is not a request: the SDK's own header check, plus a bound on
how far ahead of now the header may be dated, which Stripe's check does not look at.
"""

from __future__ import annotations

import time

import stripe
from django.conf import settings

from payouts.stripe.errors import GatewayErrorCode, WebhookSignatureInvalid
from payouts.stripe.results import VerifiedEvent, verified_event_from

# How old a webhook's signature may be, as Stripe's own libraries default it.
WEBHOOK_TOLERANCE_SECONDS = 300


def _signed_at(signature: str) -> int | None:
    """The header's first `t=`, read as Stripe's library reads it (which checked it)."""
    times = [item.split("=", 2)[1:] for item in signature.split(",") if item.startswith("t=")]
    try:
        return int(times[0][0])
    except (IndexError, ValueError):
        return None


def webhook_event_verify(*, payload: bytes, signature: str | None) -> VerifiedEvent:
    """Check a webhook's signature with STRIPE_WEBHOOK_SECRET and return its event.

    Raises `WebhookSignatureInvalid` when the header is missing, does not match the
    payload (forged or altered), or is dated more than `WEBHOOK_TOLERANCE_SECONDS`
    before now (replayed) or after it (Stripe's check looks only at the past). A signed
    payload that is not a usable event comes back with its `problem` said, not raised.
    """
    if not signature:
        raise WebhookSignatureInvalid(
            GatewayErrorCode.SIGNATURE_INVALID, "The Stripe-Signature header is missing."
        )
    try:
        stripe.WebhookSignature.verify_header(
            payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=WEBHOOK_TOLERANCE_SECONDS
        )
    except (stripe.SignatureVerificationError, UnicodeDecodeError) as error:
        raise WebhookSignatureInvalid(
            GatewayErrorCode.SIGNATURE_INVALID, "The Stripe-Signature header does not verify."
        ) from error
    signed_at = _signed_at(signature)
    if signed_at is None or signed_at > time.time() + WEBHOOK_TOLERANCE_SECONDS:
        raise WebhookSignatureInvalid(
            GatewayErrorCode.SIGNATURE_INVALID, "The Stripe-Signature header is dated ahead."
        )
    return verified_event_from(payload)
