"""Collections of a creator's works."""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction

from licensing.errors import LicensingErrorCode
from licensing.models import (
    Collection,
    Creator,
    Offer,
    OfferVersion,
    Work,
)
from licensing.public_cache import public_cache_invalidate
from licensing.services.offers import offer_row_delete
from licensing.services.validation import (
    COLLECTION_WORKS_MAX,
    UNSET,
    Unset,
    invalid,
    title_check,
)

# --- Collections ----------------------------------------------------------------------


def _collection_works_check(creator: Creator, works: Sequence[Work]) -> list[Work]:
    works = list(dict.fromkeys(works))
    if len(works) > COLLECTION_WORKS_MAX:
        raise invalid(
            LicensingErrorCode.PARAMETER_INVALID,
            f"A collection holds at most {COLLECTION_WORKS_MAX} works.",
            "works",
        )
    # Judge by the stored rows, not by what the caller's copies say.
    stored = Work.objects.in_bulk([work.pk for work in works])
    for index, work in enumerate(works):
        row = stored.get(work.pk)
        if row is None or row.creator_id != creator.pk:
            raise invalid(LicensingErrorCode.WORK_NOT_FOUND, "No such work.", f"works[{index}]")
        if row.reserved:
            raise invalid(
                LicensingErrorCode.WORK_RESERVED,
                f"{row.public_id} is reserved from AI use and cannot join a collection.",
                f"works[{index}]",
            )
    return [stored[work.pk] for work in works]


def collection_create(*, creator: Creator, title: str, works: Sequence[Work] = ()) -> Collection:
    title = title_check(title)
    works = _collection_works_check(creator, works)
    with transaction.atomic():
        collection = Collection.objects.create(creator=creator, title=title)
        collection.works.set(works)
    public_cache_invalidate()
    return collection


def collection_update(
    *,
    collection: Collection,
    title: str | Unset = UNSET,
    works: Sequence[Work] | Unset = UNSET,
) -> Collection:
    with transaction.atomic():
        collection = Collection.objects.select_for_update().get(pk=collection.pk)
        if not isinstance(title, Unset):
            collection.title = title_check(title)
            collection.save(update_fields=["title", "updated_at"])
        if not isinstance(works, Unset):
            collection.works.set(_collection_works_check(collection.creator, works))
    public_cache_invalidate()
    return collection


def collection_delete(*, collection: Collection) -> None:
    with transaction.atomic():
        licensed = OfferVersion.objects.filter(
            offer__collection=collection, licensed_at__isnull=False
        )
        if licensed.exists():
            raise invalid(
                LicensingErrorCode.COLLECTION_HAS_LICENSES,
                "This collection has been licensed; withdraw its offers instead.",
                None,
            )
        for offer in Offer.objects.filter(collection=collection):
            offer_row_delete(offer)
        collection.delete()
    public_cache_invalidate()
