"""Buying a license: validate, take the money, grant, post, sign — as one step.

Three ways money can go, decided by the offer's pricing and the buyer's billing:
- per-unit offers: the license is granted at once; usage is billed later;
- invoice billing: license, invoice line and the receivable's posting in one database
  transaction;
- card billing: the card is charged first, then the license, the posting and the
  purchase's success are written in one database transaction.

A card payment cannot join a database transaction, so the purchase row is committed
before Stripe is called and the PaymentIntent's idempotency key is derived from it.
Whatever happens after Stripe answers (a crash, a lost answer, a timeout), a retry of
the same request finds the same purchase row, sends the same key, gets Stripe's first
answer back, and completes: the card is never charged twice and a payment is never
lost. A declined card leaves the failed purchase row and nothing else.
"""

from __future__ import annotations

import dataclasses
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.api.ids import public_id
from config.db import savepoint_if_nested
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import License, LicenseeOrganization, Purchase
from licensing.selectors.purchases import (
    WORKS_PER_LICENSE_MAX,
    Quote,
    purchase_quote,
    purchase_quote_of,
)
from licensing.services.card_payments import (
    CardOnFile,
    PaymentDeclined,
    PaymentProviderUnavailable,
    card_payments,
)
from licensing.services.license_grants import license_grant
from licensing.services.offers import offer_version_digest, offer_version_mark_licensed
from licensing.services.purchase_duplicates import already_licensed_check

__all__ = [
    "WORKS_PER_LICENSE_MAX",
    "Quote",
    "license_purchase",
    "purchase_complete",
    "purchase_quote",
    "purchase_quote_of",
]


def _needs_card(organization: LicenseeOrganization, quote: Quote) -> bool:
    return quote.amount > 0 and organization.billing == LicenseeOrganization.Billing.CARD


class _QuoteStale(Exception):
    """The version was edited between pricing and freezing it: price it again."""


QUOTE_ATTEMPTS_MAX = 3


def license_purchase(
    *,
    organization: LicenseeOrganization,
    offer_id: str,
    work_ids: list[str] | None,
    request_key: str | None = None,
    allow_duplicate: bool = False,
    at: datetime | None = None,
) -> License:
    """Buy a license; raise `payment_failed` (402) if the card is declined.

    `at` is when the license's term starts (business time, default now): only the
    `create_license` command passes it, for a contract signed before Accord.
    """
    request_key = request_key or public_id("req")
    for _ in range(QUOTE_ATTEMPTS_MAX):
        quote = purchase_quote(organization=organization, offer_id=offer_id, work_ids=work_ids)
        request = _Request(organization, request_key, allow_duplicate, at)
        try:
            return _license_purchase_quoted(request, quote)
        except _QuoteStale:
            continue  # an edit landed before our lock: the next quote sees it
    raise LicensingError(
        LicensingErrorCode.OFFER_CHANGED,
        "The offer's terms kept changing while you bought it; read them again and retry.",
        param="offer",
        http_status=409,
    )


@dataclass(frozen=True)
class _Request:
    organization: LicenseeOrganization
    request_key: str
    allow_duplicate: bool
    at: datetime | None


def _license_purchase_quoted(request: _Request, quote: Quote) -> License:
    if _needs_card(request.organization, quote):
        # Committed on its own, before any money moves.
        with _claim_transaction(request, quote):
            purchase, frozen = _purchase_claim(request, quote)
        return _purchase_pay_and_complete(purchase, frozen or quote, at=request.at)
    # Invoiced or free: the purchase row commits with its license and posting, so a
    # retry of this request (the client's, or the idempotency layer's after a crash)
    # finds the license instead of granting and billing it again.
    with transaction.atomic():
        purchase, claimed = _purchase_claim(request, quote, paid=True)
        if claimed is not None:
            return license_grant(purchase=purchase, quote=claimed, at=request.at)
    return _purchase_pay_and_complete(purchase, quote)


def _claim_transaction(request: _Request, quote: Quote) -> AbstractContextManager:
    """A transaction for a card purchase's claim, when it has reads to hold to.

    The duplicate check and the version's freeze must commit with the purchase row;
    a duplicate allowed under a version already frozen is one INSERT, as before.
    """
    if request.allow_duplicate and quote.version.licensed_at is not None:
        return nullcontext()
    return transaction.atomic()


def _purchase_claim(
    request: _Request, quote: Quote, *, paid: bool = False
) -> tuple[Purchase, Quote | None]:
    """Write the purchase row, or find the one this request made.

    Returns the row and, when this call wrote it, the quote on the version as frozen
    (None when the row was this request's earlier one). Runs in the caller's
    transaction: the version's freeze and the duplicate check commit with the row.
    """
    organization = request.organization
    if not request.allow_duplicate:
        already_licensed_check(
            organization=organization, quote=quote, at=request.at, request_key=request.request_key
        )
    frozen = _quote_frozen(quote)
    purchase = Purchase(
        organization=organization,
        request_key=request.request_key,
        request_digest=quote.digest(),
        offer_version=frozen.version,
        offer_version_digest=frozen.version_digest,
        work_ids=[work.public_id for work in quote.works],
        amount=quote.amount,
        currency=quote.currency,
        status=Purchase.Status.SUCCEEDED if paid else Purchase.Status.PENDING,
        completed_at=timezone.now() if paid else None,
    )
    try:
        with savepoint_if_nested():
            purchase.save(force_insert=True)
        return purchase, frozen
    except IntegrityError:
        existing = Purchase.objects.get(organization=organization, request_key=request.request_key)
    if existing.request_digest != quote.digest():
        raise LicensingError(
            LicensingErrorCode.PURCHASE_KEY_REUSED,
            "This Idempotency-Key bought something else; use a new key.",
            http_status=422,
        )
    return existing, None


def _quote_frozen(quote: Quote) -> Quote:
    """Freeze the quoted version before money moves, and check it still says what we priced.

    A version read as licensed is final (its `licensed_at` was committed with its last
    terms). Otherwise its row is locked and marked: an edit that got there first is
    seen here (the terms' digest differs: quote again), one that comes later waits
    and then makes the next version instead of changing this one.
    """
    if quote.version.licensed_at is not None:
        return quote
    frozen = offer_version_mark_licensed(offer_version=quote.version)
    if offer_version_digest(frozen) != quote.version_digest:
        raise _QuoteStale
    frozen.offer = quote.offer
    return dataclasses.replace(quote, version=frozen)


def _purchase_pay_and_complete(
    purchase: Purchase, quote: Quote, *, at: datetime | None = None
) -> License:
    if purchase.status == Purchase.Status.SUCCEEDED:
        return purchase.license
    if purchase.status == Purchase.Status.FAILED:
        raise _payment_failed(purchase)
    organization = purchase.organization
    try:
        charge = card_payments().card_charge(
            # Derived from our own row: every retry of this purchase sends the same key.
            idempotency_key=f"accord-purchase:{purchase.public_id}",
            card=CardOnFile(organization.stripe_customer_id, organization.stripe_payment_method_id),
            amount=purchase.amount,
            currency=purchase.currency,
            metadata={
                "accord_purchase": purchase.public_id,
                "accord_organization": organization.public_id,
            },
            description=f"Accord license purchase {purchase.public_id}",
        )
    except PaymentDeclined as declined:
        Purchase.objects.filter(pk=purchase.pk, status=Purchase.Status.PENDING).update(
            status=Purchase.Status.FAILED,
            failure_code=declined.code[:64],
            failure_message=declined.message[:500],
            payment_intent_id=declined.payment_intent_id or "",
            completed_at=timezone.now(),
        )
        purchase.refresh_from_db()
        raise _payment_failed(purchase) from declined
    except PaymentProviderUnavailable as unavailable:
        raise LicensingError(
            LicensingErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            "The payment provider did not answer; retry with the same Idempotency-Key.",
            http_status=503,
        ) from unavailable
    assert charge.amount == purchase.amount, (charge.amount, purchase.amount)
    return purchase_complete(
        purchase=purchase, payment_intent_id=charge.payment_intent_id, quote=quote, at=at
    )


def _payment_failed(purchase: Purchase) -> LicensingError:
    return LicensingError(
        LicensingErrorCode.PAYMENT_FAILED,
        f"The card was declined ({purchase.failure_code}); nothing was bought.",
        http_status=402,
        details=[
            {"param": None, "code": purchase.failure_code, "message": purchase.failure_message}
        ],
    )


def purchase_complete(
    *,
    purchase: Purchase,
    payment_intent_id: str,
    quote: Quote | None = None,
    at: datetime | None = None,
) -> License:
    """Grant the license of a paid purchase, once (also from the payment webhook).

    `quote` is what the buyer's request priced, when it was priced under the purchase's
    own offer version; without it (the webhook) the purchase's row says what to grant.
    """
    with transaction.atomic():
        # The conditional UPDATE is the lock: a concurrent completer waits for this
        # transaction, then finds the purchase succeeded and returns its license.
        if not _purchase_mark_succeeded(purchase, payment_intent_id):
            return License.objects.get(purchase=purchase.pk)
        if quote is None or quote.version.pk != purchase.offer_version_id:
            quote = purchase_quote_of(purchase=purchase)
        granted = license_grant(purchase=purchase, quote=quote, at=at)
    purchase.status = Purchase.Status.SUCCEEDED
    purchase.payment_intent_id = payment_intent_id
    return granted


def _purchase_mark_succeeded(purchase: Purchase, payment_intent_id: str) -> bool:
    """Mark the purchase paid unless it already is; say whether this call did."""
    updated = (
        Purchase.objects.filter(pk=purchase.pk)
        .exclude(status=Purchase.Status.SUCCEEDED)
        .update(
            status=Purchase.Status.SUCCEEDED,
            payment_intent_id=payment_intent_id,
            completed_at=timezone.now(),
        )
    )
    return updated == 1
