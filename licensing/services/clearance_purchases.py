"""Buying a clearance: every licensable item licensed at the quoted prices, in one step.

One license per offer bought, each granted exactly as a single purchase grants it
(`licensing.services.purchases._license_grant`: the same license row, sale posting, invoice
line and certificate), each with its own purchase row (request key
`clearance:{clearance}:{offer}`) so that every license looks like any other. The money
moves once: one PaymentIntent for the whole quote (card billing), or the licenses'
invoice lines (invoice billing).

The clearance row is the lock and the idempotency anchor. Invoiced or free, the
purchase is one database transaction under that lock: a second purchase waits, then
finds the first answer. By card, the claim (status `purchasing`, the quoted versions
frozen) commits before Stripe is called with a key derived from the clearance, so a
retry after a crash sends the same key, gets Stripe's first answer, and completes; a
declined card marks the clearance `failed` and buys nothing.

Before anything is bought the quote is checked: past `expires_at` it is `409
quote_expired`; if any chosen offer was withdrawn, got a new version, or had its
version's price edited, or a chosen work was reserved since, it is `409
quote_changed`.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import (
    Clearance,
    ClearanceItem,
    License,
    LicenseeOrganization,
    Offer,
    OfferVersion,
    Purchase,
    RightsShare,
    Work,
)
from licensing.selectors import clearances as selectors
from licensing.services.card_payments import (
    CardOnFile,
    PaymentDeclined,
    PaymentProviderUnavailable,
    card_payments,
)
from licensing.services.clearance_certificates import clearance_certificate_sign
from licensing.services.offers import offer_version_digest, offer_version_mark_licensed

# A private name on purpose: a clearance grants each license exactly as a purchase does.
from licensing.services.purchases import Quote, _license_grant

Pricing = OfferVersion.Pricing
LICENSABLE = ClearanceItem.Status.LICENSABLE


@dataclass(frozen=True)
class ClearancePurchase:
    clearance: Clearance
    licenses: list[str]

    @property
    def amount(self) -> int:
        return self.clearance.quote_amount


def _error(code: LicensingErrorCode, message: str, http_status: int, **kwargs) -> LicensingError:
    return LicensingError(code, message, http_status=http_status, **kwargs)


def clearance_purchase(
    *, organization: LicenseeOrganization, clearance_id: str, at: datetime | None = None
) -> ClearancePurchase:
    """Buy everything licensable in a clearance, once; the same answer on every repeat."""
    clearance = selectors.clearance_get(organization=organization, public_id=clearance_id)
    card = organization.billing == LicenseeOrganization.Billing.CARD
    with transaction.atomic():
        clearance = Clearance.objects.select_for_update().get(pk=clearance.pk)
        if clearance.status == Clearance.Status.READY:
            versions = _quote_check(clearance, at or timezone.now())
            if not card or clearance.quote_amount == 0:
                return _grant_all(clearance, versions, payment_intent_id="", at=at)
            Clearance.objects.filter(pk=clearance.pk).update(status=Clearance.Status.PURCHASING)
            clearance.status = Clearance.Status.PURCHASING
    if clearance.status == Clearance.Status.PURCHASED:
        return _answer(clearance)
    if clearance.status == Clearance.Status.FAILED:
        raise _payment_failed(clearance)
    return _pay_and_complete(clearance, at=at)


def _answer(clearance: Clearance) -> ClearancePurchase:
    return ClearancePurchase(clearance, selectors.clearance_license_ids(clearance=clearance))


def _quoted_offers(clearance: Clearance) -> dict[int, tuple[int, int]]:
    """Each quoted version: its offer, and the quoted amount of all its items."""
    quoted: dict[int, tuple[int, int]] = {}
    rows = ClearanceItem.objects.filter(clearance=clearance, status=LICENSABLE).values_list(
        "offer_version_id", "offer_id", "amount"
    )
    for version_pk, offer_pk, amount in rows.iterator(chunk_size=10_000):
        _, total = quoted.get(version_pk, (offer_pk, 0))
        quoted[version_pk] = (offer_pk, total + (amount or 0))
    return quoted


def _quote_check(clearance: Clearance, at: datetime) -> dict[int, OfferVersion]:
    """Refuse an expired or outdated quote; freeze and return the quoted versions."""
    if at >= clearance.expires_at:
        raise _error(
            LicensingErrorCode.QUOTE_EXPIRED,
            f"The quote expired at {clearance.expires_at.isoformat()}; create a new clearance.",
            409,
        )
    quoted = _quoted_offers(clearance)
    offers = Offer.objects.in_bulk([offer_pk for offer_pk, _ in quoted.values()])
    changed = [
        offer.public_id
        for version_pk, (offer_pk, _) in quoted.items()
        if (offer := offers[offer_pk]).status != Offer.Status.ACTIVE
        or offer.current_version_id != version_pk
    ]
    reserved_since = ClearanceItem.objects.filter(
        clearance=clearance, status=LICENSABLE, work__reserved=True
    ).exists()
    versions = {}
    if not changed and not reserved_since:
        # Frozen before money moves: an edit from now on makes a new version.
        for version_pk in sorted(quoted):
            version = offer_version_mark_licensed(offer_version=OfferVersion(pk=version_pk))
            versions[version_pk] = version
        works_per_version = _works_per_version(clearance)
        changed = [
            offers[offer_pk].public_id
            for version_pk, (offer_pk, amount) in quoted.items()
            if _amount_due(versions[version_pk], len(works_per_version[version_pk])) != amount
        ]
    if changed or reserved_since:
        raise _error(
            LicensingErrorCode.QUOTE_CHANGED,
            "The catalogue changed since the quote; create a new clearance to re-quote.",
            409,
            details=[{"param": "offer", "code": "quote_changed", "message": o} for o in changed],
        )
    return versions


def _amount_due(version: OfferVersion, works_count: int) -> int:
    """What a single purchase of this version for so many works costs (`purchase_quote`)."""
    if version.pricing == Pricing.PER_UNIT:
        return 0
    if version.pricing == Pricing.FLAT:
        return (version.amount or 0) * works_count
    return version.amount or 0


def _works_per_version(clearance: Clearance) -> dict[int, list[int]]:
    """The distinct licensable works quoted under each version, in id order."""
    works: dict[int, set[int]] = defaultdict(set)
    rows = ClearanceItem.objects.filter(clearance=clearance, status=LICENSABLE).values_list(
        "offer_version_id", "work_id"
    )
    for version_pk, work_pk in rows.iterator(chunk_size=10_000):
        works[version_pk].add(work_pk)
    return {version_pk: sorted(pks) for version_pk, pks in works.items()}


def _pay_and_complete(clearance: Clearance, *, at: datetime | None) -> ClearancePurchase:
    organization = clearance.organization
    try:
        charge = card_payments().card_charge(
            # Derived from our own row: every retry of this clearance sends the same key.
            idempotency_key=f"accord-clearance:{clearance.public_id}",
            card=CardOnFile(organization.stripe_customer_id, organization.stripe_payment_method_id),
            amount=clearance.quote_amount,
            currency=clearance.currency,
            metadata={
                "accord_clearance": clearance.public_id,
                "accord_organization": organization.public_id,
            },
            description=f"Accord dataset clearance {clearance.public_id}",
        )
    except PaymentDeclined as declined:
        Clearance.objects.filter(pk=clearance.pk, status=Clearance.Status.PURCHASING).update(
            status=Clearance.Status.FAILED,
            failure_code=declined.code[:64],
            failure_message=declined.message[:500],
            payment_intent_id=declined.payment_intent_id or "",
        )
        clearance.refresh_from_db()
        raise _payment_failed(clearance) from declined
    except PaymentProviderUnavailable as unavailable:
        raise _error(
            LicensingErrorCode.PAYMENT_PROVIDER_UNAVAILABLE,
            "The payment provider did not answer; purchase the clearance again.",
            503,
        ) from unavailable
    assert charge.amount == clearance.quote_amount, (charge.amount, clearance.quote_amount)
    with transaction.atomic():
        clearance = Clearance.objects.select_for_update().get(pk=clearance.pk)
        if clearance.status == Clearance.Status.PURCHASED:
            return _answer(clearance)
        assert clearance.status == Clearance.Status.PURCHASING, clearance.status
        versions = OfferVersion.objects.in_bulk(list(_quoted_offers(clearance)))
        return _grant_all(clearance, versions, payment_intent_id=charge.payment_intent_id, at=at)


def _payment_failed(clearance: Clearance) -> LicensingError:
    return _error(
        LicensingErrorCode.PAYMENT_FAILED,
        f"The card was declined ({clearance.failure_code}); nothing was bought.",
        402,
        details=[
            {"param": None, "code": clearance.failure_code, "message": clearance.failure_message}
        ],
    )


def _owners_of(work_pks: list[int]) -> dict[int, dict[str, int]]:
    owners: dict[int, dict[str, int]] = defaultdict(dict)
    shares = RightsShare.objects.filter(work_id__in=work_pks).values_list(
        "work_id", "creator__public_id", "basis_points"
    )
    for work_pk, creator_public_id, basis_points in shares:
        owners[work_pk][creator_public_id] = basis_points
    return owners


def _grant_all(
    clearance: Clearance,
    versions: dict[int, OfferVersion],
    *,
    payment_intent_id: str,
    at: datetime | None,
) -> ClearancePurchase:
    """Grant one license per quoted version, as single purchases do (caller's transaction)."""
    works_per_version = _works_per_version(clearance)
    granted: list[License] = []
    for version_pk in sorted(versions, key=lambda pk: versions[pk].offer_id):
        version = OfferVersion.objects.select_related("offer__work", "offer__collection").get(
            pk=version_pk
        )
        license_ = _grant_one(
            clearance, version, works_per_version[version_pk], payment_intent_id, at
        )
        ClearanceItem.objects.filter(
            clearance=clearance, status=LICENSABLE, offer_version_id=version_pk
        ).update(license=license_)
        granted.append(license_)
    total = sum(license_.amount for license_ in granted)
    assert total == clearance.quote_amount, (total, clearance.quote_amount)
    clearance.status = Clearance.Status.PURCHASED
    clearance.purchased_at = timezone.now()
    clearance.payment_intent_id = payment_intent_id
    clearance.certificate = clearance_certificate_sign(clearance=clearance)
    clearance.save(update_fields=["status", "purchased_at", "payment_intent_id", "certificate"])
    return ClearancePurchase(clearance, [license_.public_id for license_ in granted])


def _grant_one(
    clearance: Clearance,
    version: OfferVersion,
    work_pks: list[int],
    payment_intent_id: str,
    at: datetime | None,
) -> License:
    offer = version.offer
    if version.pricing == Pricing.POOL:
        # As a single pool purchase: the whole collection, its money to the pool.
        works = tuple(offer.collection.works.filter(reserved=False).order_by("id"))
        owners: dict[int, dict[str, int]] = {}
    else:
        works = tuple(Work.objects.filter(pk__in=work_pks).order_by("id"))
        owners = _owners_of(work_pks)
    digest = offer_version_digest(version)
    quote = Quote(offer, version, works, _amount_due(version, len(works)), owners, digest)
    purchase = Purchase.objects.create(
        organization=clearance.organization,
        request_key=f"clearance:{clearance.public_id}:{offer.public_id}",
        request_digest=quote.digest(),
        offer_version=version,
        offer_version_digest=digest,
        work_ids=[work.public_id for work in works],
        amount=quote.amount,
        currency=quote.currency,
        status=Purchase.Status.SUCCEEDED,
        payment_intent_id=payment_intent_id,
        completed_at=timezone.now(),
    )
    return _license_grant(purchase=purchase, quote=quote, at=at)
