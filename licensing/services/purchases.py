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

import calendar
import dataclasses
import hashlib
import json
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from config.api.ids import public_id
from config.db import savepoint_if_nested
from ledger.money import minor_to_micros
from licensing.accounts import license_pool, organization_receivable, platform_stripe_balance
from licensing.certificates.signing import certificate_sign
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import InvoiceLine, License, LicenseeOrganization, OfferVersion, Purchase
from licensing.sales import SaleLine, commission_basis_points, sale_post
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
from licensing.services.offers import offer_version_digest, offer_version_mark_licensed

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


BOOTSTRAP_MONTHS_BACK_MAX = 24


def license_agreed_record(
    *,
    organization_slug: str,
    offer_id: str,
    work_ids: list[str] | None,
    starts_on: date,
    today: date | None = None,
) -> License:
    """Record a license agreed before Accord (a contract signed on paper).

    The same checks, charge or invoice line and posting as a purchase; only the term
    starts on `starts_on` (midnight UTC), at most 24 months back and never in the
    future. Its request key is made of its arguments, so running the same command
    twice records one license.
    """
    organization = LicenseeOrganization.objects.filter(slug=organization_slug).first()
    if organization is None:
        raise LicensingError(
            LicensingErrorCode.ORGANIZATION_NOT_FOUND, f"No organisation {organization_slug}."
        )
    today = today or timezone.now().date()
    earliest = _months_before(today, BOOTSTRAP_MONTHS_BACK_MAX)
    if not earliest <= starts_on <= today:
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID,
            f"The term starts between {earliest} and {today} (at most"
            f" {BOOTSTRAP_MONTHS_BACK_MAX} months back, never in the future).",
            param="starts_at",
        )
    asked = json.dumps([offer_id, sorted(work_ids or []), starts_on.isoformat()])
    return license_purchase(
        organization=organization,
        offer_id=offer_id,
        work_ids=work_ids,
        request_key=f"bootstrap:{hashlib.sha256(asked.encode()).hexdigest()}",
        at=datetime.combine(starts_on, time.min, tzinfo=UTC),
    )


def _months_before(day: date, months: int) -> date:
    month_index = day.year * 12 + day.month - 1 - months
    year, month = divmod(month_index, 12)
    last_day = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last_day))


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
            return _license_grant(purchase=purchase, quote=claimed, at=request.at)
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


# A pending card purchase older than this is left for its webhook or its own retry and
# no longer blocks buying the same works again (its buyer may never come back).
PENDING_PURCHASE_BLOCKS = timedelta(minutes=15)


def already_licensed_check(
    *,
    organization: LicenseeOrganization,
    quote: Quote,
    at: datetime | None = None,
    request_key: str | None = None,
) -> None:
    """Refuse (409 `already_licensed`) works the organisation holds for this use.

    Held: under an active license whose term meets the new one, or being bought by a
    recent pending card purchase (else ten concurrent requests without a shared
    Idempotency-Key would charge ten times). The organisation's row is locked first,
    so concurrent purchases by one organisation check one after the other. What the
    request with `request_key` bought itself (a retry) does not count.
    """
    LicenseeOrganization.objects.select_for_update().filter(pk=organization.pk).first()
    starts_at = at or timezone.now()
    version = quote.version
    ends_at = starts_at + timedelta(days=version.term_days) if version.term_days else None
    work_pks = [work.pk for work in quote.works]
    held = License.objects.filter(
        organization=organization,
        status=License.Status.ACTIVE,
        offer_version__offer__use=quote.offer.use,
        works__in=work_pks,
    ).filter(Q(ends_at__isnull=True) | Q(ends_at__gt=starts_at))
    if request_key is not None:
        held = held.exclude(purchase__request_key=request_key)
    if ends_at is not None:
        held = held.filter(starts_at__lt=ends_at)
    found = list(held.values_list("public_id", "works__public_id").order_by("id")[:100])
    if not found:
        found = _pending_purchases_of(organization, quote, request_key)
    if found:
        raise _already_licensed(found, quote.offer.use)


def _pending_purchases_of(
    organization: LicenseeOrganization, quote: Quote, request_key: str | None
) -> list[tuple[str, str]]:
    asked = {work.public_id for work in quote.works}
    pending = (
        Purchase.objects.filter(
            organization=organization,
            status=Purchase.Status.PENDING,
            offer_version__offer__use=quote.offer.use,
            created_at__gte=timezone.now() - PENDING_PURCHASE_BLOCKS,
        )
        .exclude(request_key=request_key or "")
        .values_list("public_id", "work_ids")
    )
    return [
        (purchase_id, work_id)
        for purchase_id, work_ids in pending[:100]
        for work_id in work_ids
        if work_id in asked
    ]


def _already_licensed(found: list[tuple[str, str]], use: str) -> LicensingError:
    holder, work_id = found[0]
    noun = "license" if holder.startswith("lic_") else "purchase under way"
    return LicensingError(
        LicensingErrorCode.ALREADY_LICENSED,
        f"You already hold {work_id} for {use} under {noun} {holder}; send"
        ' "allow_duplicate": true to buy it again.',
        param="works",
        details=[
            {
                "param": "works",
                "code": "already_licensed",
                "message": work_id,
                ("license" if holder.startswith("lic_") else "purchase"): holder,
            }
            for holder, work_id in found
        ],
    )


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
        granted = _license_grant(purchase=purchase, quote=quote, at=at)
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


def _terms_frozen(purchase: Purchase, quote: Quote) -> OfferVersion:
    """The version a license is granted under: the one its purchase froze, unchanged.

    The purchase's claim marked the version licensed, so it can no longer be edited;
    a purchase written before that rule is frozen now. Either way the terms must be
    the ones the purchase priced, or nothing is granted: the money would not match.
    """
    version = quote.version
    if version.licensed_at is None:
        version = offer_version_mark_licensed(offer_version=version)
        version.offer = quote.offer
    if purchase.offer_version_digest and (
        offer_version_digest(version) != purchase.offer_version_digest
    ):
        raise RuntimeError(f"{purchase.public_id}: its offer version changed after it was priced")
    return version


def _license_grant(*, purchase: Purchase, quote: Quote, at: datetime | None = None) -> License:
    """Write the license, its posting and invoice line, and sign it (caller's transaction).

    Everything the license row holds (its posting, its certificate) is known before it
    is written, so it is written once; its works follow in one INSERT.
    """
    organization = purchase.organization
    version = _terms_frozen(purchase, quote)
    assert version.pk == purchase.offer_version_id
    starts_at = at or timezone.now()
    granted = License(
        organization=organization,
        offer_version=version,
        purchase=purchase,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(days=version.term_days) if version.term_days else None,
        amount=quote.amount,
        currency=version.currency,
        commission_basis_points=commission_basis_points(),
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
        # The month it is billed in: now, also for a license whose term began earlier.
        period=timezone.now().strftime("%Y-%m"),
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
        commission_basis_points=granted.commission_basis_points,
        pool=pool,
        memo=f"{organization.name} bought {granted.public_id}",
        effective_at=granted.starts_at,
    )
