"""Reads of works: the licensee catalogue, one work, and a creator's own works.

Lists come back as querysets with their related rows prefetched in a fixed number
of queries, so a page of works costs the same few queries whatever its length (the
tests pin the counts). Creator-scoped reads take the creator and filter by it: a row
of another creator is simply not found, which the API turns into a 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Collection, Creator, Offer, RightsShare, Work
from licensing.selectors.offers import offers_active_queryset


def works_with_offers(queryset: QuerySet[Work]) -> QuerySet[Work]:
    """Attach each work's creator, its active offers and its collections' active offers."""
    collections = Collection.objects.prefetch_related(
        Prefetch("offers", queryset=offers_active_queryset(), to_attr="active_offers")
    )
    return queryset.select_related("creator").prefetch_related(
        Prefetch("offers", queryset=offers_active_queryset(), to_attr="active_direct_offers"),
        Prefetch("collections", queryset=collections, to_attr="prefetched_collections"),
    )


def work_offers_active(work: Work) -> list[Offer]:
    """Return the active offers under which this work can be licensed now.

    Its own offers and those of the collections it belongs to; none at all for a
    reserved work, whatever a collection offers.
    """
    if work.reserved:
        return []
    if hasattr(work, "active_direct_offers"):
        direct = list(work.active_direct_offers)
        via_collections = [
            offer
            for collection in work.prefetched_collections
            for offer in collection.active_offers
        ]
    else:
        direct = list(offers_active_queryset().filter(work=work))
        via_collections = list(offers_active_queryset().filter(collection__works=work))
    return sorted(direct + via_collections, key=lambda offer: offer.pk)


def works_catalogue_list(
    *,
    use: str | None = None,
    kind: str | None = None,
    creator_public_id: str | None = None,
    query: str | None = None,
) -> QuerySet[Work]:
    """The licensee catalogue: every work, filterable; `use` keeps only licensable ones."""
    works = Work.objects.all()
    if kind:
        works = works.filter(kind=kind)
    if creator_public_id:
        works = works.filter(creator__public_id=creator_public_id)
    if query:
        works = works.filter(title__icontains=query)
    if use:
        direct = Offer.objects.filter(work=OuterRef("pk"), status=Offer.Status.ACTIVE, use=use)
        via_collection = Offer.objects.filter(
            collection__works=OuterRef("pk"), status=Offer.Status.ACTIVE, use=use
        )
        # A reserved work never appears as licensable, whatever a collection offers.
        works = works.filter(Q(Exists(direct)) | Q(Exists(via_collection)), reserved=False)
    return works_with_offers(works)


def work_get(*, public_id: str) -> Work:
    work = works_with_offers(Work.objects.filter(public_id=public_id)).first()
    if work is None:
        raise LicensingError(LicensingErrorCode.WORK_NOT_FOUND, "No such work.", param="id")
    return work


def work_find_by_identifier(*, kind: str, value: str) -> Work | None:
    """Find a work by one canonical identifier (see `identifiers.identifier_normalize`)."""
    assert kind in ("sha256", "isrc", "isbn", "doi", "url"), kind
    return works_with_offers(Work.objects.filter(**{kind: value})).first()


def creator_works_list(*, creator: Creator) -> QuerySet[Work]:
    return works_with_offers(Work.objects.filter(creator=creator)).prefetch_related(
        Prefetch("shares", queryset=RightsShare.objects.select_related("creator"))
    )


def creator_work_get(*, creator: Creator, public_id: str) -> Work:
    work = creator_works_list(creator=creator).filter(public_id=public_id).first()
    if work is None:
        raise LicensingError(LicensingErrorCode.WORK_NOT_FOUND, "No such work.", param="work")
    return work


def creator_works_by_public_ids(*, creator: Creator, public_ids: Iterable[str]) -> list[Work]:
    """Resolve work ids within the creator's catalogue; unknown or foreign ids are an error."""
    wanted = list(dict.fromkeys(public_ids))
    found = Work.objects.filter(creator=creator, public_id__in=wanted)
    works = {work.public_id: work for work in found}
    missing = [index for index, public_id in enumerate(wanted) if public_id not in works]
    if missing:
        raise LicensingError(
            LicensingErrorCode.WORK_NOT_FOUND,
            "No such work: " + ", ".join(wanted[index] for index in missing) + ".",
            param=f"works[{missing[0]}]",
        )
    return [works[public_id] for public_id in wanted]
