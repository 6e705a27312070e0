"""Pricing a purchase: what it would buy and cost, checked against the catalogue.

`purchase_quote` writes nothing; `licensing.services.purchases` charges and grants what
it priced. `purchase_quote_of` reads a purchase row's quote again (the webhook has
nothing else).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

from django.db.models import Prefetch, QuerySet

from config.joined_reads import JoinedRead, Table
from licensing.currencies import CARD_CHARGE_MAXIMUM
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import (
    Collection,
    Creator,
    LicenseeOrganization,
    Offer,
    OfferVersion,
    Purchase,
    RightsShare,
    Work,
)
from licensing.sales import Owners
from licensing.services.offers import offer_version_digest

WORKS_PER_LICENSE_MAX = 1000
Pricing = OfferVersion.Pricing
_SHARES_WITH_CREATORS = Prefetch("shares", queryset=RightsShare.objects.select_related("creator"))


@dataclass(frozen=True)
class Quote:
    """What a purchase would buy and cost, checked against the catalogue."""

    offer: Offer
    version: OfferVersion
    works: tuple[Work, ...]
    amount: int  # minor units, due at purchase
    owners: Mapping[int, Owners]  # each work's owners by its pk; empty for a pool
    version_digest: str = ""  # the version's terms as priced (`offer_version_digest`)

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
    purchase starts here, and as a queryset (`select_related` of three tables and the
    owners annotated across two more) it was a fifth of a card purchase's Python calls,
    ten times this read's (docs/benchmarks.md, "Plain ORM again"); the rule for a
    hand-written statement is in docs/architecture.md.
    """
    offer = Table(Offer, "o")
    version = Table(OfferVersion, "v", joined_to=("o", "current_version"))
    work = Table(Work, "w", joined_to=("o", "work"))
    collection = Table(Collection, "col", joined_to=("o", "collection"))
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
    offer, version = rows[0][0], rows[0][1]
    if offer.status == Offer.Status.DRAFT or version is None:
        raise _offer_not_found(offer_id)
    if offer.status == Offer.Status.WITHDRAWN:
        raise _error(LicensingErrorCode.OFFER_WITHDRAWN, "This offer was withdrawn.", "offer")
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
    if offer.work_id is not None:
        if work_ids:
            # `works` picks from a collection; an offer on one work covers that work.
            raise _error(
                LicensingErrorCode.WORKS_NOT_ALLOWED,
                "This offer covers one work; do not name works.",
                "works",
            )
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
    amount = _amount_due(version, len(works))
    if organization.billing == LicenseeOrganization.Billing.CARD and amount > CARD_CHARGE_MAXIMUM:
        # Each work's price is chargeable (checked when the offer was saved); many are not.
        raise _error(
            LicensingErrorCode.PARAMETER_INVALID,
            f"Together these works cost {amount}, more than a card can pay at once"
            f" ({CARD_CHARGE_MAXIMUM} minor units); buy them as several licenses.",
            "works",
        )
    return Quote(offer, version, works, amount, owners, offer_version_digest(version))


def _amount_due(version: OfferVersion, works_count: int) -> int:
    if version.pricing == Pricing.PER_UNIT:
        return 0
    if version.pricing == Pricing.FLAT:
        return (version.amount or 0) * works_count
    return version.amount or 0


def purchase_quote_of(*, purchase: Purchase) -> Quote:
    """What a purchase row bought, read again (the webhook has nothing else)."""
    version = OfferVersion.objects.select_related("offer").get(pk=purchase.offer_version_id)
    works = _with_owners(Work.objects.all()).in_bulk(purchase.work_ids, field_name="public_id")
    ordered = tuple(works[work_id] for work_id in purchase.work_ids)
    owners = {} if version.pricing == Pricing.POOL else _owners_prefetched(ordered)
    digest = offer_version_digest(version)
    return Quote(version.offer, version, ordered, purchase.amount, owners, digest)
