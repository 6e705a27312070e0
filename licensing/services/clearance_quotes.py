"""A clearance's quote: its digest, and the check a purchase makes before it buys anything.

The quote is everything a clearance's purchase would buy and charge: the totals, every
item (its identifier, status, work, offer, version and amount) and the terms of every
version quoted (`OFFER_TERM_FIELDS`, with the version's number and offer). Its SHA-256,
`Clearance.quote_digest`, is taken when the clearance is made; the purchase takes it
again from the rows as they are then, so a change to any one of those fields, by an
edit that did not make a new version, a correction in place or a bug, is `409
quote_changed` and nothing is bought. The named checks come first because they can say
which offer moved (withdrawn, a new version, a new price, a work reserved since); the
digest catches everything else.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Clearance, ClearanceItem, Offer, OfferVersion
from licensing.services.offers import OFFER_TERM_FIELDS, offer_version_mark_licensed

Pricing = OfferVersion.Pricing
LICENSABLE = ClearanceItem.Status.LICENSABLE
# An item's columns in the digest, in `ClearanceItem`'s own names.
DIGEST_ITEM_FIELDS = (
    "position",
    "identifier",
    "status",
    "reason",
    "work_id",
    "offer_id",
    "offer_version_id",
    "amount",
    "license_id",
)
# A version's columns in the digest: which offer, which version, and its terms.
DIGEST_VERSION_FIELDS = ("pk", "offer_id", "version", *OFFER_TERM_FIELDS)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        # 0.042 as typed and 0.042000000000 as read back are the same price.
        return format(value.normalize(), "f")
    return value


# The clearance's totals in the digest, in this order.
DIGEST_HEADER_FIELDS = (
    "organization_id",
    "use",
    "currency",
    "manifest_sha256",
    "items_count",
    *(f"{status}_count" for status in ClearanceItem.Status.values),
    "quote_amount",
    "quote_works",
    "quote_offers",
    "expires_at",
)


def _header(clearance: Clearance) -> tuple:
    values = (getattr(clearance, name) for name in DIGEST_HEADER_FIELDS)
    return tuple(v.astimezone(UTC).isoformat() if isinstance(v, datetime) else v for v in values)


def quote_header_reprs(clearance: Clearance) -> dict[str, str]:
    """Each of the totals' `repr`, by field: the statement places its own among them."""
    header = zip(DIGEST_HEADER_FIELDS, _header(clearance), strict=True)
    return {name: repr(value) for name, value in header}


def quote_digest(
    clearance: Clearance, items: Iterable[Sequence[Any]], versions: Iterable[Sequence[Any]]
) -> str:
    """SHA-256 of the clearance's totals, `items` in position order, `versions` by pk.

    `items` are tuples of `DIGEST_ITEM_FIELDS` (ints, strings, None), `versions` rows of
    `DIGEST_VERSION_FIELDS`. What is hashed is the lists' `repr`: unambiguous (strings
    are quoted and escaped, so no identifier can fake a field or a row) and made in C in
    one call, which matters at 100,000 items.
    """
    digest = hashlib.sha256(repr(_header(clearance)).encode())
    digest.update(repr(list(items)).encode())
    digest.update(repr(sorted(tuple(map(_plain, row)) for row in versions)).encode())
    return digest.hexdigest()


def quote_digest_now(clearance: Clearance, version_pks: Iterable[int]) -> str:
    """The digest of the clearance as its rows and the quoted versions say now."""
    items = (
        ClearanceItem.objects.filter(clearance=clearance)
        .order_by("position")
        .values_list(*DIGEST_ITEM_FIELDS)
    )
    versions = OfferVersion.objects.filter(pk__in=list(version_pks)).values_list(
        *DIGEST_VERSION_FIELDS
    )
    return quote_digest(clearance, list(items), list(versions))


def _error(code: LicensingErrorCode, message: str, **kwargs: Any) -> LicensingError:
    return LicensingError(code, message, http_status=409, **kwargs)


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


def quoted_version_pks(clearance: Clearance) -> list[int]:
    return sorted(_quoted_offers(clearance))


def amount_due(version: OfferVersion, works_count: int) -> int:
    """What a single purchase of this version for so many works costs (`purchase_quote`)."""
    if version.pricing == Pricing.PER_UNIT:
        return 0
    if version.pricing == Pricing.FLAT:
        return (version.amount or 0) * works_count
    return version.amount or 0


def works_per_version(clearance: Clearance) -> dict[int, list[int]]:
    """The distinct licensable works quoted under each version, in id order."""
    works: dict[int, set[int]] = defaultdict(set)
    rows = ClearanceItem.objects.filter(clearance=clearance, status=LICENSABLE).values_list(
        "offer_version_id", "work_id"
    )
    for version_pk, work_pk in rows.iterator(chunk_size=10_000):
        works[version_pk].add(work_pk)
    return {version_pk: sorted(pks) for version_pk, pks in works.items()}


def _changed(details: list[dict[str, Any]]) -> LicensingError:
    return _error(
        LicensingErrorCode.QUOTE_CHANGED,
        "The catalogue changed since the quote; create a new clearance to re-quote.",
        details=details,
    )


def _offers_changed(offer_ids: list[str]) -> LicensingError:
    return _changed([{"param": "offer", "code": "quote_changed", "message": o} for o in offer_ids])


def quote_check(clearance: Clearance, at: datetime) -> dict[int, OfferVersion]:
    """Refuse an expired or changed quote; freeze and return the quoted versions.

    Runs under the clearance's lock in the purchase's transaction: a refusal rolls the
    freeze back with everything else.
    """
    if at >= clearance.expires_at:
        raise _error(
            LicensingErrorCode.QUOTE_EXPIRED,
            f"The quote expired at {clearance.expires_at.isoformat()}; create a new clearance.",
        )
    quoted = _quoted_offers(clearance)
    offers = Offer.objects.in_bulk([offer_pk for offer_pk, _ in quoted.values()])
    changed = [
        offers[offer_pk].public_id if offer_pk in offers else str(offer_pk)
        for version_pk, (offer_pk, _) in quoted.items()
        if offer_pk not in offers
        or offers[offer_pk].status != Offer.Status.ACTIVE
        or offers[offer_pk].current_version_id != version_pk
    ]
    reserved_since = ClearanceItem.objects.filter(
        clearance=clearance, status=LICENSABLE, work__reserved=True
    ).exists()
    if changed or reserved_since:
        raise _offers_changed(changed)
    # Frozen before the comparisons: an edit from now on makes a new version.
    versions = {
        version_pk: offer_version_mark_licensed(offer_version=OfferVersion(pk=version_pk))
        for version_pk in sorted(quoted)
    }
    per_version = works_per_version(clearance)
    changed = [
        offers[offer_pk].public_id
        for version_pk, (offer_pk, amount) in quoted.items()
        if amount_due(versions[version_pk], len(per_version[version_pk])) != amount
    ]
    if changed:
        raise _offers_changed(changed)
    if not clearance.quote_digest or quote_digest_now(clearance, quoted) != clearance.quote_digest:
        # Some quoted field moved that the checks above do not name: a term edited in
        # place, an item or a total that is not what was quoted.
        message = "The quote's digest differs: a quoted term, item or total changed."
        raise _changed([{"param": None, "code": "quote_digest_mismatch", "message": message}])
    return versions
