"""Reads of collections: one for the catalogue, and a creator's own."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Collection, Creator, Work
from licensing.selectors.offers import offers_active_queryset


def collection_get(*, public_id: str) -> Collection:
    collection = (
        Collection.objects.filter(public_id=public_id)
        .prefetch_related(
            "works",
            Prefetch("offers", queryset=offers_active_queryset(), to_attr="active_offers"),
        )
        .first()
    )
    if collection is None:
        raise LicensingError(
            LicensingErrorCode.COLLECTION_NOT_FOUND, "No such collection.", param="id"
        )
    return collection


def creator_collections_list(*, creator: Creator) -> QuerySet[Collection]:
    return Collection.objects.filter(creator=creator).prefetch_related(
        Prefetch("works", queryset=Work.objects.only("id", "public_id")),
        Prefetch("offers", queryset=offers_active_queryset(), to_attr="active_offers"),
    )


def creator_collection_get(*, creator: Creator, public_id: str) -> Collection:
    collection = creator_collections_list(creator=creator).filter(public_id=public_id).first()
    if collection is None:
        raise LicensingError(
            LicensingErrorCode.COLLECTION_NOT_FOUND, "No such collection.", param="collection"
        )
    return collection
