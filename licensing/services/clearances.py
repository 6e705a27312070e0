"""Dataset clearances: turn a manifest of identifiers into a priced, itemised clearance.

A training team sends the identifiers of its files (up to `ITEMS_MAX`) and one use.
Each identifier is normalised exactly as the registry does (`licensing.identifiers`),
duplicates are counted once, and the distinct identifiers are matched against the
catalogue in sets (`licensing.selectors.clearances`). A malformed identifier refuses
the whole request, naming every bad one by its index, and nothing is written.

The quote holds for `QUOTE_HOLDS`; the purchase (`clearance_purchases`) buys exactly
the offer versions quoted here, or nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.identifiers import identifier_parse
from licensing.models import Clearance, ClearanceItem, LicenseeOrganization, OfferVersion, Use
from licensing.selectors import clearances as selectors
from licensing.services.clearance_quotes import (
    DIGEST_ITEM_FIELDS,
    DIGEST_VERSION_FIELDS,
    quote_digest,
)
from licensing.services.clearance_statement import clearance_items_write

ITEMS_MAX = 100_000
QUOTE_HOLDS = timedelta(hours=24)
ITEMS_INSERT_BATCH = 5_000
_WORK_ID = re.compile(r"^wrk_[0-9A-Za-z]{1,28}$")
_SHA256_PREFIX, _SHA256_HEX = "sha256:", "[0-9a-fA-F]{64}"
# A digest written as usual: what `identifier_parse` makes of it, in one match.
_SHA256_TOKEN = re.compile(f"{_SHA256_PREFIX}({_SHA256_HEX})")
# A whole manifest of such digests, joined by newlines: checked by one match.
_SHA256_MANIFEST = re.compile(f"(?:{_SHA256_PREFIX}{_SHA256_HEX}\n)*{_SHA256_PREFIX}{_SHA256_HEX}")
Pricing = OfferVersion.Pricing
Status = ClearanceItem.Status
RESERVED_BY_CREATOR = ClearanceItem.Reason.RESERVED_BY_CREATOR.value
NOT_OFFERED = ClearanceItem.Reason.NOT_OFFERED.value
# Plain strings: COPY writes them as they are.
LICENSABLE, LICENSED, RESERVED, UNKNOWN = (status.value for status in Status)
Progress = Callable[[str, int, int], None]  # phase, done, total


def _invalid(message: str, param: str, **kwargs: Any) -> LicensingError:
    return LicensingError(LicensingErrorCode.PARAMETER_INVALID, message, param=param, **kwargs)


def _identifier_normalize(raw: object) -> tuple[str, str]:
    """One manifest entry as (kind, canonical value); our own work ids are accepted too."""
    if not isinstance(raw, str):
        raise ValidationError("Name a work by an identifier string.", "invalid")
    token = raw.strip()
    plain_digest = _SHA256_TOKEN.fullmatch(token)
    if plain_digest:
        # Most of a training set's manifest: the general path cost three times as much.
        return "sha256", plain_digest[1].lower()
    if "\x00" in token:  # valid to some patterns (a DOI's suffix), storable in none
        raise ValidationError("An identifier cannot hold a NUL character.", "invalid")
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
    digests = _sha256_manifest(raw_items)
    if digests is not None:
        if progress:
            progress("normalise", len(raw_items), len(raw_items))
        return digests
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


def _sha256_manifest(raw_items: list) -> list[tuple[str, str]] | None:
    """A manifest of nothing but `sha256:<hex>` entries (a training set's usual one), or None.

    The same identifiers as one by one, from one match and one sort of the tokens, which
    are the kind and value themselves: a fifth of the time for 100,000 of them.
    """
    if not all(type(raw) is str for raw in raw_items):
        return None
    joined = "\n".join(raw_items)
    # An entry holding a newline would read as two: entry by entry, it is malformed.
    if joined.count("\n") != len(raw_items) - 1 or not _SHA256_MANIFEST.fullmatch(joined):
        return None
    tokens = sorted(set(joined.lower().split("\n")))
    return [("sha256", token[len(_SHA256_PREFIX) :]) for token in tokens]


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
    with transaction.atomic():
        _tune_transaction()
        return clearance_record(organization, use, identifiers, at, progress=progress)


def clearance_record(
    organization: LicenseeOrganization,
    use: str,
    identifiers: list[tuple[str, str]],
    at: datetime,
    *,
    progress: Progress | None = None,
    in_sql: bool | None = None,
) -> Clearance:
    """Match, price and write the clearance (in `clearance_create`'s transaction).

    By one statement on PostgreSQL (`clearance_statement`), by the ORM elsewhere;
    `in_sql` chooses, for the test that runs both on one manifest and compares them.
    """
    if in_sql is None:
        in_sql = connection.vendor == "postgresql"
    clearance = Clearance(organization=organization, use=use, currency=organization.currency)
    clearance.manifest_sha256 = manifest_sha256([_token(i) for i in identifiers])
    clearance.expires_at = at + QUOTE_HOLDS
    if not in_sql:
        _record_orm(clearance, identifiers, at, progress)
        return clearance
    # Saved first, empty (its counts add up: all zero), for the items' clearance id.
    for name in ("items", *Status.values):
        setattr(clearance, f"{name}_count", 0)
    clearance.quote_amount = clearance.quote_works = clearance.quote_offers = 0
    clearance.save()
    clearance.items_count = len(identifiers)
    clearance_items_write(clearance, identifiers, at)
    clearance.save()
    if progress:
        progress("match", len(identifiers), len(identifiers))
    return clearance


def _record_orm(
    clearance: Clearance,
    identifiers: list[tuple[str, str]],
    at: datetime,
    progress: Progress | None,
) -> None:
    """Match and price in Python from set-based queries, then write the clearance and items."""
    organization, use = clearance.organization, clearance.use
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
    chosen = selectors.cheapest_offers(
        work_pks=available,
        use=use,
        currency=organization.currency,
        version_fields=DIGEST_VERSION_FIELDS,
    )
    covering = selectors.licenses_covering(
        organization=organization, use=use, work_pks=available, at=at
    )
    rows, quote = _items_for(identifiers, matched, chosen, covering)
    clearance.items_count = len(rows)
    counts = Counter(row[_STATUS] for row in rows)
    for status in Status.values:
        setattr(clearance, f"{status}_count", counts[status])
    clearance.quote_amount, clearance.quote_works = quote.amount, quote.works
    clearance.quote_offers = quote.offers
    quoted = {row[_VERSION] for row in rows if row[_STATUS] == LICENSABLE}
    versions = {o.version_pk: o.version_row for o in chosen.values() if o.version_pk in quoted}
    clearance.quote_digest = quote_digest(clearance, rows, versions.values())
    clearance.save()
    _items_insert(clearance, rows)


def _tune_transaction() -> None:
    """Settings for this clearance's transaction only (PostgreSQL).

    `synchronous_commit` off: COMMIT returns before its WAL reaches the disk. A
    clearance is a quote that moves no money: were the server to crash in the instant
    after the commit, the client would find no clearance and send the manifest again.
    Waiting for the flush of 100,000 rows was a third of the time. Purchases keep the
    default: they commit money.

    `jit` off: the collection-offer ranking is estimated at tens of millions of rows
    (a join through the collection's works), so PostgreSQL compiled it to machine code
    first, which took 4 s for a query that runs in 0.1 s (docs/benchmarks.md,
    "Clearances").

    `work_mem` 64 MB: the statement (`clearance_statement`) keeps the inserted items and
    sorts their 10 MB of text for the digest; at the default 4 MB both went to disk.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")
            cursor.execute("SET LOCAL jit TO OFF")
            cursor.execute("SET LOCAL max_parallel_workers_per_gather TO 0")
            cursor.execute("SET LOCAL work_mem TO '64MB'")


class _Item(NamedTuple):
    """An item's columns, in `ITEM_COLUMNS` order after the clearance.

    The rows themselves are plain tuples in this order (`_item`): building 100,000
    named tuples with defaults cost more than the digest and the COPY of them.
    """

    position: int
    identifier: str
    status: str
    reason: str = ""
    work_id: int | None = None
    offer_id: int | None = None
    offer_version_id: int | None = None
    amount: int | None = None
    license_id: int | None = None


ITEM_COLUMNS = ("clearance_id", *_Item._fields)
assert _Item._fields == DIGEST_ITEM_FIELDS, "the quote's digest hashes items as written"
assert [field.attname for field in ClearanceItem._meta.concrete_fields] == ["id", *ITEM_COLUMNS]
_STATUS, _VERSION = (_Item._fields.index(name) for name in ("status", "offer_version_id"))
Row = tuple  # an `_Item`'s fields, in order


def _item(position: int, identifier: str, status: str, reason: str = "", work_id=None) -> Row:
    return (position, identifier, status, reason, work_id, None, None, None, None)


def _items_insert(clearance: Clearance, rows: Sequence[Row]) -> None:
    """Write the items: by COPY on PostgreSQL, in bulk INSERTs elsewhere.

    COPY because a clearance writes up to 100,000 rows and `bulk_create` spent more time
    building and compiling them than matching took (docs/benchmarks.md, "Clearances").
    """
    if connection.vendor != "postgresql":
        ClearanceItem.objects.bulk_create(
            # Positional: the id, then each column's attname, in the model's field order.
            [ClearanceItem(None, clearance.pk, *row) for row in rows],
            batch_size=ITEMS_INSERT_BATCH,
        )
        return
    quote = connection.ops.quote_name
    names = ", ".join(
        quote(ClearanceItem._meta.get_field(name.removesuffix("_id")).column)
        for name in ITEM_COLUMNS
    )
    statement = f"COPY {quote(ClearanceItem._meta.db_table)} ({names}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row((clearance.pk, *row))


def _items_for(
    identifiers: Sequence[tuple[str, str]],
    matched: dict[tuple[str, str], selectors.MatchedWork],
    chosen: dict[int, selectors.ChosenOffer],
    covering: dict[int, int],
) -> tuple[list[Row], _Quote]:
    """One item per identifier, and the quote: each work priced once, each pool once."""
    quote = _Quote()
    priced_works: set[int] = set()
    priced_offers: set[int] = set()
    rows = []
    for position, identifier in enumerate(identifiers):
        token, work = _token(identifier), matched.get(identifier)
        if work is None:
            rows.append(_item(position, token, UNKNOWN))
        elif work.reserved:
            rows.append(_item(position, token, RESERVED, RESERVED_BY_CREATOR, work.pk))
        elif work.pk in covering:
            license_pk = covering[work.pk]
            rows.append((position, token, LICENSED, "", work.pk, None, None, None, license_pk))
        elif work.pk in chosen:
            offer = chosen[work.pk]
            # A work named twice is priced once; a pool once, whatever it covers.
            first_of_work = work.pk not in priced_works
            first_of_offer = offer.offer_pk not in priced_offers
            pool = offer.pricing == Pricing.POOL
            amount = offer.price if (first_of_offer if pool else first_of_work) else 0
            rows.append(
                (
                    position,
                    token,
                    LICENSABLE,
                    "",
                    work.pk,
                    offer.offer_pk,
                    offer.version_pk,
                    amount,
                    None,
                )
            )
            quote.amount += amount
            quote.works += first_of_work
            quote.offers += first_of_offer
            priced_works.add(work.pk)
            priced_offers.add(offer.offer_pk)
        else:
            rows.append(_item(position, token, RESERVED, NOT_OFFERED, work.pk))
    return rows, quote
