"""Offers and their versions: terms checked against the pricing model, licensed versions frozen."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone

from licensing.currencies import CARD_CHARGE_MAXIMUM, CARD_CHARGE_MINIMUM, major_amount_format
from licensing.errors import LicensingErrorCode
from licensing.models import (
    AMOUNT_MAX,
    Collection,
    Creator,
    Offer,
    OfferVersion,
    Use,
    Work,
)
from licensing.public_cache import public_cache_invalidate
from licensing.selectors.clearances import offer_is_quoted
from licensing.selectors.offers import offer_version_is_licensed
from licensing.services.validation import (
    TERM_DAYS_MAX,
    UNIT_PRICE_DECIMAL_PLACES_MAX,
    UNIT_PRICE_INTEGER_DIGITS_MAX,
    currency_check,
    invalid,
)

# --- Offers ---------------------------------------------------------------------------

POOL_UNIT_DEFAULT = OfferVersion.Unit.ITEM


@dataclass(frozen=True)
class OfferTerms:
    """The versioned part of an offer: its price and conditions."""

    pricing: str
    currency: str
    amount: int | None = None
    unit_amount_decimal: Decimal | None = None
    unit: str | None = None
    minimum_amount: int | None = None
    term_days: int | None = None
    attribution_required: bool = False
    commercial: bool = True


OFFER_TERM_FIELDS: tuple[str, ...] = tuple(field.name for field in dataclasses.fields(OfferTerms))


def offer_terms_of(offer_version: OfferVersion) -> OfferTerms:
    return OfferTerms(**{name: getattr(offer_version, name) for name in OFFER_TERM_FIELDS})


def offer_version_digest(offer_version: OfferVersion) -> str:
    """SHA-256 of a version's identity and terms: what a purchase quoted, to the byte.

    A purchase stores it before any money moves and the grant checks it again, so a
    license can only ever carry the terms its buyer was charged for.
    """
    terms: dict[str, Any] = {"id": offer_version.pk, "version": offer_version.version}
    for name in OFFER_TERM_FIELDS:
        value = getattr(offer_version, name)
        if isinstance(value, Decimal):
            # 0.042 as typed and 0.042000000000 as read back are the same price.
            value = format(value.normalize(), "f")
        terms[name] = value
    return hashlib.sha256(json.dumps(terms, sort_keys=True).encode()).hexdigest()


def _amount_check(value: Any, *, param: str) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= AMOUNT_MAX:
        raise invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            f"{param} is a whole number of minor units from 0 to {AMOUNT_MAX} (12 digits).",
            param,
        )


def _unit_price_check(value: Any) -> None:
    if value is None:
        return
    try:
        price = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        price = Decimal("NaN")
    if not price.is_finite() or price < 0:
        raise invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            "unit_amount_decimal is a non-negative decimal in the currency's minor unit.",
            "unit_amount_decimal",
        )
    _, digits, exponent = price.normalize().as_tuple()
    assert isinstance(exponent, int)
    integer_digits = max(len(digits) + exponent, 0)
    decimal_places = max(-exponent, 0)
    if (
        integer_digits > UNIT_PRICE_INTEGER_DIGITS_MAX
        or decimal_places > UNIT_PRICE_DECIMAL_PLACES_MAX
    ):
        raise invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            f"unit_amount_decimal has at most {UNIT_PRICE_INTEGER_DIGITS_MAX} digits before "
            f"the point and {UNIT_PRICE_DECIMAL_PLACES_MAX} after it.",
            "unit_amount_decimal",
        )


def _card_chargeable_check(amount: int | None, currency: str) -> None:
    """A price paid at purchase must be one a card can pay: 0 (free) or within Stripe's limits.

    Else the offer would be accepted and every card buyer answered 402 "declined".
    """
    if not amount:
        return
    minimum = CARD_CHARGE_MINIMUM[currency]
    if not minimum <= amount <= CARD_CHARGE_MAXIMUM:
        raise invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            f"A card pays from {major_amount_format(minimum, currency)} to"
            f" {major_amount_format(CARD_CHARGE_MAXIMUM, currency)} {currency.upper()} at once"
            f" (Stripe's limits): amount is 0 (free) or from {minimum} to"
            f" {CARD_CHARGE_MAXIMUM} minor units.",
            "amount",
        )


def _terms_require(terms: OfferTerms, *, required: Sequence[str], absent: Sequence[str]) -> None:
    for name in required:
        if getattr(terms, name) is None:
            raise invalid(
                LicensingErrorCode.OFFER_TERMS_INVALID,
                f"A {terms.pricing} offer needs {name}.",
                name,
            )
    for name in absent:
        if getattr(terms, name) is not None:
            raise invalid(
                LicensingErrorCode.OFFER_TERMS_INVALID,
                f"A {terms.pricing} offer has no {name}.",
                name,
            )


def offer_terms_check(terms: OfferTerms, *, for_collection: bool) -> OfferTerms:
    """Check terms against their pricing model; return them with the currency normalized."""
    if terms.pricing not in OfferVersion.Pricing.values:
        raise invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            "pricing is one of " + ", ".join(OfferVersion.Pricing.values) + ".",
            "pricing",
        )
    terms = dataclasses.replace(terms, currency=currency_check(terms.currency, param="currency"))
    _amount_check(terms.amount, param="amount")
    _amount_check(terms.minimum_amount, param="minimum_amount")
    _unit_price_check(terms.unit_amount_decimal)
    if terms.unit is not None and terms.unit not in OfferVersion.Unit.values:
        raise invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            "unit is one of " + ", ".join(OfferVersion.Unit.values) + ".",
            "unit",
        )
    if terms.term_days is not None and (
        isinstance(terms.term_days, bool)
        or not isinstance(terms.term_days, int)
        or not 1 <= terms.term_days <= TERM_DAYS_MAX
    ):
        raise invalid(
            LicensingErrorCode.OFFER_TERMS_INVALID,
            f"term_days is a whole number of days from 1 to {TERM_DAYS_MAX}.",
            "term_days",
        )
    if terms.pricing == OfferVersion.Pricing.PER_UNIT:
        _terms_require(terms, required=("unit", "unit_amount_decimal"), absent=("amount",))
    elif terms.pricing == OfferVersion.Pricing.POOL:
        # A pool is paid up front, and shared out by usage declared in its `unit`.
        _terms_require(
            terms,
            required=("amount", "term_days"),
            absent=("unit_amount_decimal", "minimum_amount"),
        )
        terms = dataclasses.replace(terms, unit=terms.unit or POOL_UNIT_DEFAULT)
    else:
        _terms_require(
            terms,
            required=("amount", "term_days"),
            absent=("unit", "unit_amount_decimal", "minimum_amount"),
        )
    if terms.pricing == OfferVersion.Pricing.POOL and not for_collection:
        raise invalid(
            LicensingErrorCode.OFFER_TARGET_INVALID,
            "A pool offer is made for a collection, not a single work.",
            "pricing",
        )
    if terms.pricing != OfferVersion.Pricing.PER_UNIT:
        _card_chargeable_check(terms.amount, terms.currency)
    if terms.unit_amount_decimal is not None:
        terms = dataclasses.replace(terms, unit_amount_decimal=Decimal(terms.unit_amount_decimal))
    return dataclasses.replace(
        terms,
        attribution_required=bool(terms.attribution_required),
        commercial=bool(terms.commercial),
    )


def _offer_target_check(
    *, creator: Creator, work: Work | None, collection: Collection | None
) -> None:
    if (work is None) == (collection is None):
        raise invalid(
            LicensingErrorCode.OFFER_TARGET_INVALID,
            "An offer is made for exactly one work or one collection.",
            "work",
        )
    if work is not None and work.creator_id != creator.pk:
        raise invalid(LicensingErrorCode.WORK_NOT_FOUND, "No such work.", "work")
    if collection is not None and collection.creator_id != creator.pk:
        raise invalid(LicensingErrorCode.COLLECTION_NOT_FOUND, "No such collection.", "collection")
    if work is not None and work.reserved:
        raise invalid(
            LicensingErrorCode.WORK_RESERVED,
            "This work is reserved from AI use; it cannot be offered.",
            "work",
        )


def offer_create(
    *,
    creator: Creator,
    use: str,
    terms: OfferTerms,
    work: Work | None = None,
    collection: Collection | None = None,
    status: str = Offer.Status.DRAFT,
) -> Offer:
    """Make an offer (version 1) for one of the creator's works or collections."""
    _offer_target_check(creator=creator, work=work, collection=collection)
    if use not in Use.values:
        raise invalid(
            LicensingErrorCode.PARAMETER_INVALID, "use is one of " + ", ".join(Use.values), "use"
        )
    if status not in (Offer.Status.DRAFT, Offer.Status.ACTIVE):
        raise invalid(
            LicensingErrorCode.OFFER_STATUS_INVALID,
            "A new offer is either draft or active.",
            "status",
        )
    terms = offer_terms_check(terms, for_collection=collection is not None)
    with transaction.atomic():
        if work is not None:
            # Lock the work so a concurrent reservation cannot slip an offer past it.
            work = Work.objects.select_for_update().get(pk=work.pk)
            _offer_target_check(creator=creator, work=work, collection=None)
        offer = Offer.objects.create(
            creator=creator, work=work, collection=collection, use=use, status=status
        )
        version = OfferVersion.objects.create(offer=offer, version=1, **dataclasses.asdict(terms))
        offer.current_version = version
        offer.save(update_fields=["current_version", "updated_at"])
    public_cache_invalidate()
    return offer


_STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    Offer.Status.DRAFT: frozenset({Offer.Status.ACTIVE, Offer.Status.WITHDRAWN}),
    Offer.Status.ACTIVE: frozenset({Offer.Status.WITHDRAWN}),
    Offer.Status.WITHDRAWN: frozenset({Offer.Status.ACTIVE}),
}


def offer_status_check(*, offer: Offer, status: str) -> None:
    """Check that `offer` (as stored) may move to `status`."""
    if status == offer.status:
        return
    if status not in _STATUS_TRANSITIONS.get(offer.status, frozenset()):
        raise invalid(
            LicensingErrorCode.OFFER_STATUS_INVALID,
            f"An offer cannot go from {offer.status} to {status}.",
            "status",
        )
    if status == Offer.Status.ACTIVE and offer.work is not None and offer.work.reserved:
        raise invalid(
            LicensingErrorCode.WORK_RESERVED,
            "The work is reserved from AI use; its offers stay withdrawn.",
            "status",
        )


def offer_update(
    *,
    offer: Offer,
    terms: Mapping[str, Any] | None = None,
    status: str | None = None,
) -> Offer:
    """Change an offer's terms and/or status.

    Terms of a version that has been licensed are never touched: the change becomes
    the next version, which new licenses will be bought under. Terms of a version
    nobody bought yet are corrected in place.
    """
    unknown = set(terms or {}) - set(OFFER_TERM_FIELDS)
    assert not unknown, f"not offer terms: {unknown}"
    with transaction.atomic():
        # Lock the offer, then its current version: a purchase marking that version
        # licensed waits for us, or we see its mark and create a new version.
        offer = (
            Offer.objects.select_for_update(of=("self",)).select_related("work").get(pk=offer.pk)
        )
        current = OfferVersion.objects.select_for_update().get(pk=offer.current_version_id)
        changed = False
        if terms:
            proposed = dataclasses.replace(offer_terms_of(current), **terms)
            proposed = offer_terms_check(proposed, for_collection=offer.collection_id is not None)
            if proposed != offer_terms_of(current):
                changed = True
                if offer_version_is_licensed(offer_version=current):
                    offer.current_version = OfferVersion.objects.create(
                        offer=offer, version=current.version + 1, **dataclasses.asdict(proposed)
                    )
                else:
                    for name, value in dataclasses.asdict(proposed).items():
                        setattr(current, name, value)
                    current.save()
        if status is not None and status != offer.status:
            offer_status_check(offer=offer, status=status)
            offer.status = status
            changed = True
        if changed:
            # Also when only the version changed: `updated_at` dates the public terms.
            offer.save()
    public_cache_invalidate()
    return offer


def offer_publish(*, offer: Offer) -> Offer:
    return offer_update(offer=offer, status=Offer.Status.ACTIVE)


def offer_withdraw(*, offer: Offer) -> Offer:
    return offer_update(offer=offer, status=Offer.Status.WITHDRAWN)


def offer_delete(*, offer: Offer) -> None:
    """Delete an offer nobody has licensed (a licensed one can only be withdrawn)."""
    with transaction.atomic():
        offer = Offer.objects.select_for_update().get(pk=offer.pk)
        if OfferVersion.objects.filter(offer=offer, licensed_at__isnull=False).exists():
            raise invalid(
                LicensingErrorCode.OFFER_HAS_LICENSES,
                "This offer has been licensed; withdraw it instead of deleting it.",
                None,
            )
        if offer_is_quoted(offer=offer):
            raise invalid(
                LicensingErrorCode.OFFER_HAS_LICENSES,
                "A dataset clearance quoted this offer; withdraw it instead of deleting it.",
                None,
            )
        offer_row_delete(offer)
    public_cache_invalidate()


def offer_version_mark_licensed(*, offer_version: OfferVersion) -> OfferVersion:
    """Record that a license is being bought under this version, freezing its terms.

    For the purchase flow: call it inside the purchase's transaction, before pricing
    the license, and price from the row it returns. It locks the version, so an edit
    running at the same time either finishes first (and the purchase sees the edited
    terms) or waits and then creates a new version instead of changing these.
    """
    with transaction.atomic():
        locked = OfferVersion.objects.select_for_update().get(pk=offer_version.pk)
        if locked.licensed_at is None:
            locked.licensed_at = timezone.now()
            locked.save(update_fields=["licensed_at"])
    return locked


def offer_row_delete(offer: Offer) -> None:
    offer.current_version = None
    offer.save(update_fields=["current_version", "updated_at"])
    for version in OfferVersion.objects.filter(offer=offer):
        version.delete()
    offer.delete()
