"""Reads of offers and their versions: the catalogue's and a creator's own.

A creator-scoped read takes the creator and filters by it: another creator's offer is
simply not found, which the API turns into a 404.
"""

from __future__ import annotations

from django.db.models import QuerySet

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Creator, Offer, OfferVersion


def offers_active_queryset() -> QuerySet[Offer]:
    """Active offers with what every page of them shows (version, work, collection)."""
    return Offer.objects.filter(status=Offer.Status.ACTIVE).select_related(
        "current_version", "work", "collection"
    )


def _offers_queryset() -> QuerySet[Offer]:
    return Offer.objects.select_related("current_version", "work", "collection")


def offer_get(*, public_id: str) -> Offer:
    offer = _offers_queryset().filter(public_id=public_id).first()
    if offer is None:
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
    """Whether any license was bought under this version (then its terms are frozen).

    The purchase flow records it with `services.offer_version_mark_licensed`, in the
    same transaction that creates the license, so this read needs no license table.
    """
    return offer_version.licensed_at is not None


def creator_offers_list(*, creator: Creator) -> QuerySet[Offer]:
    return _offers_queryset().filter(creator=creator)


def creator_offer_get(*, creator: Creator, public_id: str) -> Offer:
    offer = creator_offers_list(creator=creator).filter(public_id=public_id).first()
    if offer is None:
        raise LicensingError(LicensingErrorCode.OFFER_NOT_FOUND, "No such offer.", param="id")
    return offer
