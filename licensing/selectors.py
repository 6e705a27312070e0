"""Reads of the catalogue: what the API, the admin and the public endpoints show.

Lists come back as querysets with their related rows prefetched in a fixed number
of queries, so a page of works costs the same few queries whatever its length (the
tests pin the counts). Creator-scoped reads take the creator and filter by it: a row
of another creator is simply not found, which the API turns into a 404.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from licensing.currencies import SUPPORTED_CURRENCIES
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import (
    Collection,
    Creator,
    Offer,
    OfferVersion,
    Purchase,
    RightsShare,
    Work,
)


def _active_offers_queryset() -> QuerySet[Offer]:
    return Offer.objects.filter(status=Offer.Status.ACTIVE).select_related(
        "current_version", "work", "collection"
    )


def _offers_queryset() -> QuerySet[Offer]:
    return Offer.objects.select_related("current_version", "work", "collection")


def works_with_offers(queryset: QuerySet[Work]) -> QuerySet[Work]:
    """Attach each work's creator, its active offers and its collections' active offers."""
    collections = Collection.objects.prefetch_related(
        Prefetch("offers", queryset=_active_offers_queryset(), to_attr="active_offers")
    )
    return queryset.select_related("creator").prefetch_related(
        Prefetch("offers", queryset=_active_offers_queryset(), to_attr="active_direct_offers"),
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
        direct = list(_active_offers_queryset().filter(work=work))
        via_collections = list(_active_offers_queryset().filter(collection__works=work))
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


def collection_get(*, public_id: str) -> Collection:
    collection = (
        Collection.objects.filter(public_id=public_id)
        .prefetch_related(
            "works",
            Prefetch("offers", queryset=_active_offers_queryset(), to_attr="active_offers"),
        )
        .first()
    )
    if collection is None:
        raise LicensingError(
            LicensingErrorCode.COLLECTION_NOT_FOUND, "No such collection.", param="id"
        )
    return collection


def creator_get(*, public_id: str) -> Creator:
    creator = Creator.objects.filter(public_id=public_id).first()
    if creator is None:
        raise LicensingError(LicensingErrorCode.CREATOR_NOT_FOUND, "No such creator.")
    return creator


def creators_by_public_ids(*, public_ids: Iterable[str]) -> dict[str, Creator]:
    return {
        creator.public_id: creator
        for creator in Creator.objects.filter(public_id__in=list(public_ids))
    }


# --- A creator's own rows -------------------------------------------------------------


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


def creator_offers_list(*, creator: Creator) -> QuerySet[Offer]:
    return _offers_queryset().filter(creator=creator)


def creator_offer_get(*, creator: Creator, public_id: str) -> Offer:
    offer = creator_offers_list(creator=creator).filter(public_id=public_id).first()
    if offer is None:
        raise LicensingError(LicensingErrorCode.OFFER_NOT_FOUND, "No such offer.", param="id")
    return offer


def creator_collections_list(*, creator: Creator) -> QuerySet[Collection]:
    return Collection.objects.filter(creator=creator).prefetch_related(
        Prefetch("works", queryset=Work.objects.only("id", "public_id")),
        Prefetch("offers", queryset=_active_offers_queryset(), to_attr="active_offers"),
    )


def creator_collection_get(*, creator: Creator, public_id: str) -> Collection:
    collection = creator_collections_list(creator=creator).filter(public_id=public_id).first()
    if collection is None:
        raise LicensingError(
            LicensingErrorCode.COLLECTION_NOT_FOUND, "No such collection.", param="collection"
        )
    return collection


# --- A creator's ledger accounts ------------------------------------------------------


@dataclass(frozen=True)
class LedgerAccountRow:
    code: str
    kind: str
    currency: str
    balance_micros: int
    balance_label: str


_CREDIT_NORMAL_KINDS = frozenset({"liability", "equity", "revenue"})


def _micros_label(micros: int, currency: str) -> str:
    """Write micros in major units, keeping sub-cent digits only when there are any."""
    exponent = SUPPORTED_CURRENCIES.get(currency, 2)
    major = Decimal(micros).scaleb(-6)
    text = format(major.quantize(Decimal(1).scaleb(-6)), "f").rstrip("0")
    whole, _, fraction = text.partition(".")
    return f"{whole}.{fraction.ljust(exponent, '0')}" if exponent or fraction else whole


def creator_ledger_accounts(*, creator: Creator) -> list[LedgerAccountRow]:
    """The creator's ledger accounts with their balances, as the creator reads them.

    Balances are kept debit-positive in the books; an account Accord owes the creator
    (a liability) is shown credit-positive, so money owed to them reads as positive.
    """
    from ledger.selectors import account_balance, accounts_of_owner

    rows = []
    for account in accounts_of_owner(owner_type="creator", owner_id=creator.public_id):
        micros = account_balance(account)
        shown = -micros if account.kind in _CREDIT_NORMAL_KINDS else micros
        rows.append(
            LedgerAccountRow(
                code=account.code,
                kind=account.kind,
                currency=account.currency,
                balance_micros=micros,
                balance_label=_micros_label(shown, account.currency),
            )
        )
    return rows
