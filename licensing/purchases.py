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

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.db import IntegrityError, connection, transaction
from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from config.api.ids import public_id
from config.db import savepoint_if_nested, sql_names
from config.joined_reads import JoinedRead, Table
from config.row_insert import RowInsert
from ledger.money import minor_to_micros
from licensing import services as catalogue_services
from licensing.accounts import license_pool, organization_receivable, platform_stripe_balance
from licensing.certificates.signing import certificate_sign
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.licenses import WORKS_LISTED, license_statement
from licensing.models import (
    Collection,
    Creator,
    InvoiceLine,
    License,
    LicenseeOrganization,
    Offer,
    OfferVersion,
    Purchase,
    RightsShare,
    Work,
)
from licensing.payments import (
    CardOnFile,
    PaymentDeclined,
    PaymentProviderUnavailable,
    card_payments,
)
from licensing.sales import Owners, SaleLine, sale_post

WORKS_PER_LICENSE_MAX = 1000
Pricing = OfferVersion.Pricing
_PURCHASE_INSERT = RowInsert(Purchase)
_LICENSE_INSERT = RowInsert(License)
_LICENSE_WORK_INSERT = RowInsert(License.works.through)
_SHARES_WITH_CREATORS = Prefetch("shares", queryset=RightsShare.objects.select_related("creator"))


@dataclass(frozen=True)
class Quote:
    """What a purchase would buy and cost, checked against the catalogue."""

    offer: Offer
    version: OfferVersion
    works: tuple[Work, ...]
    amount: int  # minor units, due at purchase
    owners: Mapping[int, Owners]  # each work's owners by its pk; empty for a pool

    @property
    def currency(self) -> str:
        return self.version.currency

    def digest(self) -> str:
        asked = [self.offer.public_id, sorted(work.public_id for work in self.works)]
        return hashlib.sha256(json.dumps(asked).encode()).hexdigest()


def _error(
    code: LicensingErrorCode, message: str, param: str | None = None, **kwargs
) -> LicensingError:
    return LicensingError(code, message, param=param, **kwargs)


def _with_owners(works: QuerySet[Work]) -> QuerySet[Work]:
    """Works with their rights shares and the shares' creators: what a sale splits by."""
    return works.prefetch_related(_SHARES_WITH_CREATORS)


def _owners_prefetched(works: Iterable[Work]) -> dict[int, Owners]:
    return {
        work.pk: {share.creator.public_id: share.basis_points for share in work.shares.all()}
        for work in works
    }


@cache
def _offer_with_owners() -> JoinedRead:
    """An offer with its current version, its work or collection, and the work's owners.

    One row per rights share of a single-work offer, one row for a collection's. Every
    purchase starts here; as a queryset with a prefetch it was two statements whose
    compiling cost more CPU than PostgreSQL spent running them.
    """
    offer, version = Table(Offer, "o"), Table(OfferVersion, "v")
    work, collection = Table(Work, "w"), Table(Collection, "col")
    share, owner = Table(RightsShare, "s"), Table(Creator, "sc")

    def sql(columns: str) -> str:
        return (
            f"SELECT {columns} FROM {offer.name}"
            f" LEFT JOIN {version.name}"
            f" ON {version.column('id')} = {offer.column('current_version_id')}"
            f" LEFT JOIN {work.name} ON {work.column('id')} = {offer.column('work_id')}"
            f" LEFT JOIN {collection.name}"
            f" ON {collection.column('id')} = {offer.column('collection_id')}"
            f" LEFT JOIN {share.name} ON {share.column('work_id')} = {work.column('id')}"
            f" LEFT JOIN {owner.name} ON {owner.column('id')} = {share.column('creator_id')}"
            f" WHERE {offer.column('public_id')} = %s"
        )

    return JoinedRead([offer, version, work, collection, share, owner], sql)


def _offer_for_sale(offer_id: str) -> tuple[Offer, Owners]:
    """The offer on sale under this id, and (for a single-work offer) its work's owners."""
    rows = _offer_with_owners().rows([offer_id])
    if not rows:
        raise _offer_not_found(offer_id)
    offer, version, work, collection, _, _ = rows[0]
    if offer.status == Offer.Status.DRAFT or version is None:
        raise _offer_not_found(offer_id)
    if offer.status == Offer.Status.WITHDRAWN:
        raise _error(LicensingErrorCode.OFFER_WITHDRAWN, "This offer was withdrawn.", "offer")
    offer.current_version, offer.work, offer.collection = version, work, collection
    version.offer = offer  # the license and its certificate read both
    owners = {owner.public_id: share.basis_points for *_, share, owner in rows if share}
    return offer, owners


def _offer_not_found(offer_id: str) -> LicensingError:
    return _error(LicensingErrorCode.OFFER_NOT_FOUND, f"No offer {offer_id}.", "offer")


def _works_for_offer(
    offer: Offer, pricing: str, work_ids: list[str] | None, work_owners: Owners
) -> tuple[tuple[Work, ...], dict[int, Owners]]:
    """The works a purchase covers, and each one's owners (none for a pool)."""
    if pricing == Pricing.POOL:
        if work_ids:
            raise _error(
                LicensingErrorCode.WORKS_NOT_ALLOWED,
                "A pool license covers its whole collection; do not name works.",
                "works",
            )
        # A pool's money goes to the pool, not to owners: no shares to read.
        works = tuple(offer.collection.works.filter(reserved=False).order_by("id"))
        if not works:
            raise _error(LicensingErrorCode.WORK_RESERVED, "Every work in it is reserved.", "offer")
        return works, {}
    if offer.work_id is not None and (not work_ids or work_ids == [offer.work.public_id]):
        if offer.work.reserved:
            raise _work_reserved(offer.work.public_id)
        return (offer.work,), {offer.work_id: work_owners}
    if not work_ids:
        raise _error(LicensingErrorCode.WORKS_REQUIRED, "Name the works to license.", "works")
    if len(work_ids) > WORKS_PER_LICENSE_MAX or len(set(work_ids)) != len(work_ids):
        raise _error(
            LicensingErrorCode.PARAMETER_INVALID,
            f"Name each work once, at most {WORKS_PER_LICENSE_MAX} works.",
            "works",
        )
    covered = _with_owners(Work.objects.filter(public_id__in=work_ids))
    covered = (
        covered.filter(pk=offer.work_id)
        if offer.work_id
        else covered.filter(collections=offer.collection_id)
    )
    works = {work.public_id: work for work in covered}
    outside = [work_id for work_id in work_ids if work_id not in works]
    if outside:
        raise _error(
            LicensingErrorCode.WORK_NOT_IN_OFFER,
            f"This offer does not cover {', '.join(outside[:5])}.",
            "works",
            details=[
                {"param": "works", "code": "work_not_in_offer", "message": work_id}
                for work_id in outside[:100]
            ],
        )
    reserved = [work_id for work_id in work_ids if works[work_id].reserved]
    if reserved:
        raise _work_reserved(reserved[0])
    ordered = tuple(works[work_id] for work_id in work_ids)
    return ordered, _owners_prefetched(ordered)


def _work_reserved(work_id: str) -> LicensingError:
    return _error(LicensingErrorCode.WORK_RESERVED, f"{work_id} is reserved from AI use.", "works")


def purchase_quote(
    *, organization: LicenseeOrganization, offer_id: str, work_ids: list[str] | None
) -> Quote:
    """Check a purchase against the catalogue and price it; write nothing."""
    offer, work_owners = _offer_for_sale(offer_id)
    version = offer.current_version
    if version.currency != organization.currency:
        raise _error(
            LicensingErrorCode.CURRENCY_MISMATCH,
            f"This offer is priced in {version.currency}; your organisation pays in "
            f"{organization.currency}.",
            "offer",
        )
    works, owners = _works_for_offer(offer, version.pricing, work_ids, work_owners)
    return Quote(offer, version, works, _amount_due(version, len(works)), owners)


def _amount_due(version: OfferVersion, works_count: int) -> int:
    if version.pricing == Pricing.PER_UNIT:
        return 0
    if version.pricing == Pricing.FLAT:
        return (version.amount or 0) * works_count
    return version.amount or 0


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
            _PURCHASE_INSERT.insert(purchase)
        return purchase, True
    except IntegrityError:
        existing = Purchase.objects.get(organization=organization, request_key=request_key)
    if existing.request_digest != quote.digest():
        raise _error(
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
        raise _error(
            LicensingErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            "The payment provider did not answer; retry with the same Idempotency-Key.",
            http_status=503,
        ) from unavailable
    assert charge.amount == purchase.amount, (charge.amount, purchase.amount)
    return purchase_complete(
        purchase=purchase, payment_intent_id=charge.payment_intent_id, quote=quote
    )


def _payment_failed(purchase: Purchase) -> LicensingError:
    return _error(
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
            quote = _purchased_quote(purchase)
        granted = _license_grant(purchase=purchase, quote=quote)
    purchase.status = Purchase.Status.SUCCEEDED
    purchase.payment_intent_id = payment_intent_id
    return granted


@cache
def _purchase_mark_succeeded_sql() -> str:
    names = sql_names(Purchase, "id", "status", "payment_intent_id", "completed_at")
    return (
        f"UPDATE {names.table} SET {names['status']} = %s, {names['payment_intent_id']} = %s,"
        f" {names['completed_at']} = %s WHERE {names['id']} = %s AND {names['status']} <> %s"
    )


def _purchase_mark_succeeded(purchase: Purchase, payment_intent_id: str) -> bool:
    """Mark the purchase paid unless it already is; say whether this call did.

    Written once rather than as a queryset: every card purchase runs it, and the
    queryset's compiling cost more than the UPDATE.
    """
    completed_at = Purchase._meta.get_field("completed_at").get_db_prep_save(
        timezone.now(), connection
    )
    succeeded = Purchase.Status.SUCCEEDED
    with connection.cursor() as cursor:
        cursor.execute(
            _purchase_mark_succeeded_sql(),
            [succeeded, payment_intent_id, completed_at, purchase.pk, succeeded],
        )
        return cursor.rowcount == 1


def _purchased_quote(purchase: Purchase) -> Quote:
    """What a purchase row bought, read again (the webhook has nothing else)."""
    version = OfferVersion.objects.select_related("offer").get(pk=purchase.offer_version_id)
    works = _with_owners(Work.objects.all()).in_bulk(purchase.work_ids, field_name="public_id")
    ordered = tuple(works[work_id] for work_id in purchase.work_ids)
    owners = {} if version.pricing == Pricing.POOL else _owners_prefetched(ordered)
    return Quote(version.offer, version, ordered, purchase.amount, owners)


def _terms_frozen(version: OfferVersion) -> OfferVersion:
    """The version a license is granted under, its terms frozen from now on.

    Once `licensed_at` is set (and we read it set, so it is committed) an edit makes
    a new version instead of changing this one; only the first purchase of a version
    needs to take its lock.
    """
    if version.licensed_at is not None:
        return version
    return catalogue_services.offer_version_mark_licensed(offer_version=version)


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
    _LICENSE_INSERT.insert(granted)
    links = [License.works.through(license=granted, work=work) for work in quote.works]
    if len(links) == 1:  # most licenses: one row, without bulk_create's compiling
        _LICENSE_WORK_INSERT.insert(links[0])
    else:
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
        effective_at=granted.starts_at,
    )
