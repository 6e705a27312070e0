"""Dataset clearances: turn a manifest of identifiers into a priced, itemised clearance.

A training team sends the identifiers of its files (up to `ITEMS_MAX`) and one use.
Each identifier is normalised exactly as the registry does (`licensing.identifiers`),
duplicates are counted once, and the distinct identifiers are matched against the
catalogue in sets (`licensing.clearance_selectors`). A malformed identifier refuses
the whole request, naming every bad one by its index, and nothing is written.

The quote holds for `QUOTE_HOLDS`; the purchase (`clearance_purchases`) buys exactly
the offer versions quoted here, or nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from licensing import clearance_selectors as selectors
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.identifiers import identifier_parse
from licensing.models import Clearance, ClearanceItem, LicenseeOrganization, OfferVersion, Use

ITEMS_MAX = 100_000
QUOTE_HOLDS = timedelta(hours=24)
ITEMS_INSERT_BATCH = 5_000
_WORK_ID = re.compile(r"^wrk_[0-9A-Za-z]{1,28}$")
Pricing = OfferVersion.Pricing
Status = ClearanceItem.Status
Progress = Callable[[str, int, int], None]  # phase, done, total


def _invalid(message: str, param: str, **kwargs: Any) -> LicensingError:
    return LicensingError(LicensingErrorCode.PARAMETER_INVALID, message, param=param, **kwargs)


def _identifier_normalize(raw: object) -> tuple[str, str]:
    """One manifest entry as (kind, canonical value); our own work ids are accepted too."""
    if not isinstance(raw, str):
        raise ValidationError("Name a work by an identifier string.", "invalid")
    token = raw.strip()
    if _WORK_ID.match(token):
        return "work", token
    return identifier_parse(token)


def identifiers_normalize(
    raw_items: object, *, progress: Progress | None = None
) -> list[tuple[str, str]]:
    """A manifest's distinct identifiers, normalised and sorted; or a 4xx naming each bad one."""
    if not isinstance(raw_items, list) or not 1 <= len(raw_items) <= ITEMS_MAX:
        message = f"items is a list of 1 to {ITEMS_MAX:,} identifiers."
        raise _invalid(message, "items", http_status=400)
    distinct: set[tuple[str, str]] = set()
    problems: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_items):
        try:
            distinct.add(_identifier_normalize(raw))
        except ValidationError as error:
            problems.append(
                {
                    "index": index,
                    "param": f"items[{index}]",
                    "code": "identifier_invalid",
                    "message": error.messages[0],
                }
            )
        if progress and index % 10_000 == 9_999:
            progress("normalise", index + 1, len(raw_items))
    if problems:
        raise LicensingError(
            LicensingErrorCode.IDENTIFIERS_INVALID,
            f"{len(problems)} of the identifiers are malformed; nothing was checked.",
            param="items",
            details=problems,
        )
    return sorted(distinct, key=_token)


def _token(identifier: tuple[str, str]) -> str:
    kind, value = identifier
    return value if kind == "work" else f"{kind}:{value}"


def manifest_sha256(tokens: Sequence[str]) -> str:
    """API.md's digest: the normalised, de-duplicated identifiers, sorted, joined by newlines."""
    return hashlib.sha256("\n".join(sorted(tokens)).encode()).hexdigest()


@dataclass
class _Quote:
    amount: int = 0
    works: int = 0
    offers: int = 0


def clearance_create(
    *,
    organization: LicenseeOrganization,
    use: object,
    items: object,
    at: datetime | None = None,
    progress: Progress | None = None,
) -> Clearance:
    """Check, price and record a manifest for one use; write nothing if any input is bad."""
    if use not in Use.values:
        raise _invalid("use is one of " + ", ".join(Use.values) + ".", "use", http_status=400)
    at = at or timezone.now()
    identifiers = identifiers_normalize(items, progress=progress)
    by_kind: dict[str, list[str]] = {}
    for kind, value in identifiers:
        by_kind.setdefault(kind, []).append(value)
    looked_up = [0]

    def lookup_progress(count: int) -> None:
        looked_up[0] += count
        if progress:
            progress("match", looked_up[0], len(identifiers))

    matched = selectors.works_by_identifier(by_kind, progress=lookup_progress)
    available = sorted({work.pk for work in matched.values() if not work.reserved})
    chosen = selectors.cheapest_offers(work_pks=available, use=use, currency=organization.currency)
    covering = selectors.licenses_covering(
        organization=organization, use=use, work_pks=available, at=at
    )
    clearance = Clearance(organization=organization, use=use, currency=organization.currency)
    rows, quote = _items_for(clearance, identifiers, matched, chosen, covering)
    clearance.manifest_sha256 = manifest_sha256([_token(identifier) for identifier in identifiers])
    clearance.items_count = len(rows)
    for status in Status.values:
        setattr(clearance, f"{status}_count", sum(1 for row in rows if row.status == status))
    clearance.quote_amount, clearance.quote_works = quote.amount, quote.works
    clearance.quote_offers = quote.offers
    clearance.expires_at = at + QUOTE_HOLDS
    with transaction.atomic():
        clearance.save()
        for row in rows:
            row.clearance = clearance
        ClearanceItem.objects.bulk_create(rows, batch_size=ITEMS_INSERT_BATCH)
    return clearance


def _items_for(
    clearance: Clearance,
    identifiers: Sequence[tuple[str, str]],
    matched: dict[tuple[str, str], selectors.MatchedWork],
    chosen: dict[int, selectors.ChosenOffer],
    covering: dict[int, int],
) -> tuple[list[ClearanceItem], _Quote]:
    """One item per identifier, and the quote: each work priced once, each pool once."""
    quote = _Quote()
    priced_works: set[int] = set()
    priced_offers: set[int] = set()
    rows = []
    for position, identifier in enumerate(identifiers):
        work = matched.get(identifier)
        item = ClearanceItem(position=position, identifier=_token(identifier))
        rows.append(item)
        if work is None:
            item.status = Status.UNKNOWN
            continue
        item.work_id = work.pk
        if work.reserved:
            item.status, item.reason = Status.RESERVED, ClearanceItem.Reason.RESERVED_BY_CREATOR
        elif work.pk in covering:
            item.status, item.license_id = Status.LICENSED, covering[work.pk]
        elif work.pk in chosen:
            offer = chosen[work.pk]
            item.status, item.offer_id, item.offer_version_id = (
                Status.LICENSABLE,
                offer.offer_pk,
                offer.version_pk,
            )
            # A work named twice is priced once; a pool once, whatever it covers.
            first_of_work = work.pk not in priced_works
            first_of_pool = offer.pricing == Pricing.POOL and offer.offer_pk not in priced_offers
            due = first_of_pool or (offer.pricing != Pricing.POOL and first_of_work)
            item.amount = offer.price if due else 0
            quote.amount += item.amount
            quote.works += first_of_work
            quote.offers += offer.offer_pk not in priced_offers
            priced_works.add(work.pk)
            priced_offers.add(offer.offer_pk)
        else:
            item.status, item.reason = Status.RESERVED, ClearanceItem.Reason.NOT_OFFERED
    return rows, quote
