"""Buying a clearance: every licensable item licensed at the quoted prices, in one step.

One license per offer bought, each granted exactly as a single purchase grants it
(`licensing.services.license_grants.license_grant`: the same license row, sale posting, invoice
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

import logging
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
    OfferVersion,
    Purchase,
    RightsShare,
    Work,
)
from licensing.selectors import clearances as selectors
from licensing.selectors.purchases import Quote
from licensing.services.card_payments import (
    CardOnFile,
    PaymentDeclined,
    PaymentProviderUnavailable,
    card_payments,
)
from licensing.services.clearance_certificates import clearance_certificate_sign
from licensing.services.clearance_quotes import (
    amount_due,
    quote_check,
    quoted_version_pks,
    works_per_version,
)
from licensing.services.license_grants import license_grant
from licensing.services.offers import offer_version_digest

logger = logging.getLogger("accord.licensing.clearances")

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
            versions = quote_check(clearance, at or timezone.now())
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
    completed = clearance_purchase_complete(
        clearance=clearance, payment_intent_id=charge.payment_intent_id, at=at
    )
    assert completed is not None, clearance.public_id  # we hold the only claim: purchasing
    return completed


def clearance_purchase_complete(
    *, clearance: Clearance, payment_intent_id: str, at: datetime | None = None
) -> ClearancePurchase | None:
    """Grant a charged clearance's licenses, once: its request, its retry or the webhook.

    Under the clearance's lock: whoever comes second finds it purchased and gets the
    first answer. None when the clearance was never claimed for a card payment (ready,
    failed): there is nothing a charge could complete.
    """
    with transaction.atomic():
        clearance = Clearance.objects.select_for_update().get(pk=clearance.pk)
        if clearance.status == Clearance.Status.PURCHASED:
            return _answer(clearance)
        if clearance.status != Clearance.Status.PURCHASING:
            return None
        # Frozen by the claim (`quote_check`): these are the versions that were charged.
        versions = OfferVersion.objects.in_bulk(quoted_version_pks(clearance))
        return _grant_all(clearance, versions, payment_intent_id=payment_intent_id, at=at)


def clearance_payment_succeeded(
    *, clearance_id: str, payment_intent_id: str, amount: int, currency: str
) -> ClearancePurchase | None:
    """Stripe says the clearance's PaymentIntent succeeded: complete it if its request died.

    The webhook's side of `clearance_purchase_complete`. A PaymentIntent that does not
    pay this clearance's quote in full is logged and left alone: granting on it would
    give away what was not paid for.
    """
    clearance = Clearance.objects.filter(public_id=clearance_id).first()
    if clearance is None:
        logger.warning("PaymentIntent %s names no clearance %s", payment_intent_id, clearance_id)
        return None
    if (amount, currency) != (clearance.quote_amount, clearance.currency):
        logger.error(
            "PaymentIntent %s paid %s %s for clearance %s quoted at %s %s",
            payment_intent_id,
            amount,
            currency,
            clearance.public_id,
            clearance.quote_amount,
            clearance.currency,
        )
        return None
    return clearance_purchase_complete(clearance=clearance, payment_intent_id=payment_intent_id)


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
    per_version = works_per_version(clearance)
    granted: list[License] = []
    for version_pk in sorted(versions, key=lambda pk: versions[pk].offer_id):
        version = OfferVersion.objects.select_related("offer__work", "offer__collection").get(
            pk=version_pk
        )
        license_ = _grant_one(clearance, version, per_version[version_pk], payment_intent_id, at)
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
    quote = Quote(offer, version, works, amount_due(version, len(works)), owners, digest)
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
    return license_grant(purchase=purchase, quote=quote, at=at)
