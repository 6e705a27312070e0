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

from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.api.ids import public_id
from config.db import savepoint_if_nested
from ledger.money import minor_to_micros
from licensing.accounts import license_pool, organization_receivable, platform_stripe_balance
from licensing.certificates.signing import certificate_sign
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import InvoiceLine, License, LicenseeOrganization, OfferVersion, Purchase
from licensing.sales import SaleLine, sale_post
from licensing.selectors.licenses import WORKS_LISTED, license_statement
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
from licensing.services.offers import offer_version_mark_licensed

Pricing = OfferVersion.Pricing
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


def license_purchase(
    *,
    organization: LicenseeOrganization,
    offer_id: str,
    work_ids: list[str] | None,
    request_key: str | None = None,
) -> License:
    """Buy a license; raise `payment_failed` (402) if the card is declined."""
    quote = purchase_quote(organization=organization, offer_id=offer_id, work_ids=work_ids)
    request_key = request_key or public_id("req")
    if _needs_card(organization, quote):
        # Committed on its own, before any money moves.
        purchase, _ = _purchase_claim(organization, quote, request_key)
        return _purchase_pay_and_complete(purchase, quote)
    # Invoiced or free: the purchase row commits with its license and posting, so a
    # retry of this request (the client's, or the idempotency layer's after a crash)
    # finds the license instead of granting and billing it again.
    with transaction.atomic():
        purchase, claimed = _purchase_claim(organization, quote, request_key, paid=True)
        if claimed:
            return _license_grant(purchase=purchase, quote=quote)
    return _purchase_pay_and_complete(purchase, quote)


def _purchase_claim(
    organization: LicenseeOrganization, quote: Quote, request_key: str, *, paid: bool = False
) -> tuple[Purchase, bool]:
    """Write the purchase row, or find the one this request made; say which."""
    purchase = Purchase(
        organization=organization,
        request_key=request_key,
        request_digest=quote.digest(),
        offer_version=quote.version,
        work_ids=[work.public_id for work in quote.works],
        amount=quote.amount,
        currency=quote.currency,
        status=Purchase.Status.SUCCEEDED if paid else Purchase.Status.PENDING,
        completed_at=timezone.now() if paid else None,
    )
    try:
        with savepoint_if_nested():
            purchase.save(force_insert=True)
        return purchase, True
    except IntegrityError:
        existing = Purchase.objects.get(organization=organization, request_key=request_key)
    if existing.request_digest != quote.digest():
        raise LicensingError(
            LicensingErrorCode.PURCHASE_KEY_REUSED,
            "This Idempotency-Key bought something else; use a new key.",
            http_status=422,
        )
    return existing, False


def _purchase_pay_and_complete(purchase: Purchase, quote: Quote) -> License:
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
        purchase=purchase, payment_intent_id=charge.payment_intent_id, quote=quote
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
    *, purchase: Purchase, payment_intent_id: str, quote: Quote | None = None
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
        granted = _license_grant(purchase=purchase, quote=quote)
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


def _terms_frozen(version: OfferVersion) -> OfferVersion:
    """The version a license is granted under, its terms frozen from now on.

    Once `licensed_at` is set (and we read it set, so it is committed) an edit makes
    a new version instead of changing this one; only the first purchase of a version
    needs to take its lock.
    """
    if version.licensed_at is not None:
        return version
    return offer_version_mark_licensed(offer_version=version)


def _license_grant(*, purchase: Purchase, quote: Quote) -> License:
    """Write the license, its posting and invoice line, and sign it (caller's transaction).

    Everything the license row holds (its posting, its certificate) is known before it
    is written, so it is written once; its works follow in one INSERT.
    """
    organization = purchase.organization
    version = _terms_frozen(quote.version)
    assert version.pk == purchase.offer_version_id
    now = timezone.now()
    granted = License(
        organization=organization,
        offer_version=version,
        purchase=purchase,
        starts_at=now,
        ends_at=now + timedelta(days=version.term_days) if version.term_days else None,
        amount=quote.amount,
        currency=version.currency,
    )
    if quote.amount > 0:
        granted.ledger_transaction_id = _sale_post(organization, granted, quote).pk
    granted.certificate = certificate_sign(statement=license_statement(granted, quote.works))
    granted.save(force_insert=True)
    links = [License.works.through(license=granted, work=work) for work in quote.works]
    License.works.through.objects.bulk_create(links)
    if quote.amount > 0 and organization.billing == LicenseeOrganization.Billing.INVOICE:
        _invoice_line_add(organization, granted, quote)
    setattr(granted, WORKS_LISTED, sorted(quote.works, key=lambda work: -work.pk))
    return granted


def _invoice_line_add(organization: LicenseeOrganization, granted: License, quote: Quote) -> None:
    InvoiceLine.objects.create(
        organization=organization,
        license=granted,
        period=granted.starts_at.strftime("%Y-%m"),
        description=f"License {granted.public_id}: {quote.offer} (v{quote.version.version})",
        amount=quote.amount,
        currency=quote.currency,
    )


def _sale_post(organization: LicenseeOrganization, granted: License, quote: Quote):
    currency = quote.currency
    if organization.billing == LicenseeOrganization.Billing.CARD:
        debit = platform_stripe_balance(currency)
    else:
        debit = organization_receivable(organization.public_id, currency)
    pool = None
    if quote.version.pricing == Pricing.POOL:
        lines = [SaleLine(minor_to_micros(quote.amount, currency), None)]
        pool = license_pool(granted.public_id, currency)
    else:
        per_work = minor_to_micros(quote.version.amount or 0, currency)
        lines = [SaleLine(per_work, quote.owners[work.pk]) for work in quote.works]
    return sale_post(
        license_public_id=granted.public_id,
        debit=debit,
        lines=lines,
        currency=currency,
        pool=pool,
        memo=f"{organization.name} bought {granted.public_id}",
    )
