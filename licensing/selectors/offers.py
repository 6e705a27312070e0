"""Reads of offers and their versions: the catalogue's and a creator's own.

A creator-scoped read takes the creator and filters by it: another creator's offer is
simply not found, which the API turns into a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Creator, Offer, OfferVersion, Purchase


def offers_active_queryset() -> QuerySet[Offer]:
    """Active offers with what every page of them shows (version, work, collection)."""
    return Offer.objects.filter(status=Offer.Status.ACTIVE).select_related(
        "current_version", "work", "collection"
    )


def _offers_queryset() -> QuerySet[Offer]:
    return Offer.objects.select_related("current_version", "work", "collection")


def offer_get(*, public_id: str, reader: Creator | None = None) -> Offer:
    """An offer as anyone may read it: a draft is its creator's alone (`reader`).

    Everyone else gets the same "not found" as for an offer that does not exist, with
    or without `?version=`: a draft's terms, even its existence, are not published.
    """
    offer = _offers_queryset().filter(public_id=public_id).first()
    if offer is None or (
        offer.status == Offer.Status.DRAFT and (reader is None or offer.creator_id != reader.pk)
    ):
        raise LicensingError(LicensingErrorCode.OFFER_NOT_FOUND, "No such offer.", param="id")
    return offer


def offer_version_get(*, offer: Offer, version: int | None = None) -> OfferVersion:
    """Return one version of an offer exactly as it was (the current one by default)."""
    if version is None:
        assert offer.current_version is not None, "an offer always has a current version"
        return offer.current_version
    offer_version = OfferVersion.objects.filter(offer=offer, version=version).first()
    if offer_version is None:
        raise LicensingError(
            LicensingErrorCode.OFFER_VERSION_NOT_FOUND,
            f"Offer {offer.public_id} has no version {version}.",
            param="version",
        )
    return offer_version


def offer_versions_list(*, offer: Offer) -> QuerySet[OfferVersion]:
    return OfferVersion.objects.filter(offer=offer).select_related(
        "offer", "offer__work", "offer__collection"
    )


def offer_version_is_licensed(*, offer_version: OfferVersion) -> bool:
    """Whether a purchase points at this version (then its terms are frozen for ever).

    The purchase flow sets `licensed_at` (`services.offer_version_mark_licensed`) in
    the transaction that writes the purchase row, before a card is charged, under the
    version's row lock. The purchase table is read as well for rows written before
    that rule: a version that a purchase points at is never edited in place.
    """
    if offer_version.licensed_at is not None:
        return True
    return Purchase.objects.filter(offer_version=offer_version.pk).exists()


def creator_offers_list(*, creator: Creator) -> QuerySet[Offer]:
    return _offers_queryset().filter(creator=creator)


def creator_offer_get(*, creator: Creator, public_id: str) -> Offer:
    offer = creator_offers_list(creator=creator).filter(public_id=public_id).first()
    if offer is None:
        raise LicensingError(LicensingErrorCode.OFFER_NOT_FOUND, "No such offer.", param="id")
    return offer
