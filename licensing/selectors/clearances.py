"""Reads of dataset clearances: matching a manifest against the catalogue, and the results.

The matching here is the ORM path's (SQLite; `clearances._record_orm`): on PostgreSQL
a clearance is matched, priced and written by one statement instead
(`licensing.services.clearance_statement`), and a test compares the two.

Matching is set-based: the identifiers of each kind are looked up with `__in` on the
works' unique (indexed) identifier columns, in chunks that every database accepts;
the cheapest active offer of the use per work is chosen by PostgreSQL or SQLite with
a window function (direct offers and collection offers, one query each per chunk);
works the organisation already holds for the use come from one query per chunk over
the license-works table. No query runs per identifier, and nothing is loaded into
Python but the few columns each step needs.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import Case, F, IntegerField, Lookup, Q, QuerySet, Value, When, Window
from django.db.models.functions import Coalesce, RowNumber

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import (
    Clearance,
    ClearanceItem,
    License,
    LicenseeOrganization,
    Offer,
    OfferVersion,
    Work,
)

# Values per `IN (...)`: well under SQLite's 32,766 variables, and few round trips.
LOOKUP_CHUNK = 10_000
# The identifier kinds and the work column each is looked up in; `work` is our own id.
LOOKUP_COLUMNS = {
    "sha256": "sha256",
    "isrc": "isrc",
    "isbn": "isbn",
    "doi": "doi",
    "url": "url",
    "work": "public_id",
}
Pricing = OfferVersion.Pricing
Progress = Callable[[int], None]


class MatchedWork(NamedTuple):
    # Named tuples, not frozen dataclasses: a clearance makes 100,000 of each, and a
    # frozen dataclass's `__init__` costs several times a tuple's.
    pk: int
    reserved: bool


class ChosenOffer(NamedTuple):
    """The cheapest active offer of the use for one work, as priced now."""

    offer_pk: int
    version_pk: int
    pricing: str
    price: int  # what buying it for this work costs at purchase, in minor units
    version_row: tuple = ()  # the version's `version_fields`, for the quote's digest


class _EqualsAny(Lookup):
    """`column = ANY(%s)`: a whole list as one array parameter (PostgreSQL).

    An `IN (...)` of 100,000 values is 100,000 parameters for Django to compile and
    quote; the array is one (docs/benchmarks.md, "Clearances").
    """

    lookup_name = "equals_any"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        # Used as an expression, the list arrives wrapped in a Value.
        values = self.rhs.value if isinstance(self.rhs, Value) else self.rhs
        return f"{lhs} = ANY(%s)", [*lhs_params, list(values)]


def _chunks(values: Sequence, size: int = LOOKUP_CHUNK) -> Iterator[Sequence]:
    """The values in as few sets as the database takes: one array, or chunks for `IN`."""
    if connection.vendor == "postgresql":
        yield values
        return
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _among(field: str, values: Sequence) -> Q | Lookup:
    """Match rows whose `field` is one of `values` (a set from `_chunks`)."""
    if connection.vendor == "postgresql":
        return _EqualsAny(F(field), values)
    return Q(**{f"{field}__in": values})


def works_by_identifier(
    by_kind: dict[str, list[str]], *, progress: Progress | None = None
) -> dict[tuple[str, str], MatchedWork]:
    """Find the works named by normalised identifiers, kind by kind, in chunks."""
    found: dict[tuple[str, str], MatchedWork] = {}
    for kind, values in by_kind.items():
        column = LOOKUP_COLUMNS[kind]
        for chunk in _chunks(values):
            # Unordered: the works' default order is a sort of 100,000 rows for nothing.
            rows = (
                Work.objects.filter(_among(column, chunk))
                .order_by()
                .values_list(column, "pk", "reserved")
            )
            for value, pk, reserved in rows:
                found[(kind, value)] = MatchedWork(pk, reserved)
            if progress:
                progress(len(chunk))
    return found


def _price() -> Case:
    """What an offer costs at purchase for one work: per-unit offers bill usage later."""
    return Case(
        When(current_version__pricing=Pricing.PER_UNIT, then=Value(0)),
        default=Coalesce(F("current_version__amount"), Value(0)),
        output_field=IntegerField(),
    )


def _cheapest(offers: QuerySet[Offer], target: str, version_fields: Sequence[str]) -> Iterable:
    """The first offer per `target` work by price, then by offer id: ranked by the database.

    Rows of the work, the offer, the price, then the current version's `version_fields`.
    """
    # Each version column once, as a named annotation: Django's window filter wraps the
    # query and maps its outer columns by expression, so one expression selected twice
    # (`current_version_id` and the version's `pk`) shifts every column after it.
    columns = {f"version_{name}": F(f"current_version__{name}") for name in version_fields}
    ranked = offers.annotate(
        target=F(target),
        price=_price(),
        rank=Window(
            RowNumber(), partition_by=[F(target)], order_by=[F("price").asc(), F("pk").asc()]
        ),
        **columns,
    ).filter(rank=1)
    return ranked.order_by().values_list("target", "pk", "price", *columns)


def cheapest_offers(
    *, work_pks: Sequence[int], use: str, currency: str, version_fields: Sequence[str] = ()
) -> dict[int, ChosenOffer]:
    """The cheapest active offer of `use` in `currency` for each work: its own or a collection's.

    `version_fields` are columns of the chosen version to return with it (`version_row`),
    read in the same query.
    """
    chosen: dict[int, ChosenOffer] = {}
    on_sale = Offer.objects.filter(
        status=Offer.Status.ACTIVE, use=use, current_version__currency=currency
    )
    fields = list(dict.fromkeys(("pk", "pricing", *version_fields)))
    wanted = [fields.index(name) for name in version_fields]
    for chunk in _chunks(work_pks):
        direct = _cheapest(on_sale.filter(_among("work_id", chunk)), "work_id", fields)
        via_collection = _cheapest(
            on_sale.filter(_among("collection__works", chunk)), "collection__works", fields
        )
        for work_pk, offer_pk, price, *version in [*direct, *via_collection]:
            held = chosen.get(work_pk)
            if held is None or (price, offer_pk) < (held.price, held.offer_pk):
                version_row = tuple(version[index] for index in wanted)
                chosen[work_pk] = ChosenOffer(offer_pk, version[0], version[1], price, version_row)
    return chosen


def licenses_covering(
    *, organization: LicenseeOrganization, use: str, work_pks: Sequence[int], at: datetime
) -> dict[int, int]:
    """For each work the organisation holds for `use` now, the oldest license covering it."""
    covering: dict[int, int] = {}
    held = License.works.through.objects.filter(
        license__organization=organization,
        license__status=License.Status.ACTIVE,
        license__offer_version__offer__use=use,
        license__starts_at__lte=at,
    ).filter(Q(license__ends_at__isnull=True) | Q(license__ends_at__gt=at))
    for chunk in _chunks(work_pks):
        rows = held.filter(_among("work_id", chunk)).values_list("work_id", "license_id")
        for work_pk, license_pk in rows.order_by("license_id"):
            covering.setdefault(work_pk, license_pk)
    return covering


def clearance_get(*, organization: LicenseeOrganization, public_id: str) -> Clearance:
    """One of the organisation's clearances; another organisation's is simply not found."""
    found = Clearance.objects.filter(organization=organization, public_id=public_id).first()
    if found is None:
        raise LicensingError(
            LicensingErrorCode.CLEARANCE_NOT_FOUND, f"No clearance {public_id}.", http_status=404
        )
    return found


def clearance_items(*, clearance: Clearance, status: str | None = None) -> QuerySet[ClearanceItem]:
    """A clearance's items with what the API names of them, in manifest order."""
    items = ClearanceItem.objects.filter(clearance=clearance).select_related(
        "work", "offer", "license"
    )
    if status:
        if status in ClearanceItem.Status.values and not getattr(clearance, f"{status}_count"):
            # Known from the counts: no scan of the clearance's items for none of them.
            return items.none()
        items = items.filter(status=status)
    return items.order_by("position")


CSV_COLUMNS = ("identifier", "status", "reason", "work", "offer", "amount", "license")


def clearance_items_rows(*, clearance: Clearance) -> Iterator[tuple]:
    """Every item as a CSV row, streamed from the database in chunks."""
    rows = (
        ClearanceItem.objects.filter(clearance=clearance)
        .order_by("position")
        .values_list(
            "identifier",
            "status",
            "reason",
            "work__public_id",
            "offer__public_id",
            "amount",
            "license__public_id",
        )
    )
    yield from rows.iterator(chunk_size=5_000)


class _Echo:
    def write(self, value: str) -> str:
        return value


def clearance_items_csv(*, clearance: Clearance) -> Iterator[str]:
    """The items CSV, line by line (header first): the API and `clearance_check` write it."""
    writer = csv.writer(_Echo())
    yield writer.writerow(CSV_COLUMNS)
    for row in clearance_items_rows(clearance=clearance):
        yield writer.writerow(["" if value is None else value for value in row])


def clearance_license_ids(*, clearance: Clearance) -> list[str]:
    """The licenses a clearance's purchase bought, oldest first."""
    bought = (
        ClearanceItem.objects.filter(
            clearance=clearance,
            status=ClearanceItem.Status.LICENSABLE,
            license__isnull=False,
        )
        .values_list("license_id", "license__public_id")
        .distinct()
        .order_by("license_id")
    )
    return [public_id for _, public_id in bought]


def work_is_quoted(*, work: Any) -> bool:
    """Whether a clearance's quote names the work: its record must keep what it quoted."""
    return ClearanceItem.objects.filter(work=work).exists()


def offer_is_quoted(*, offer: Any) -> bool:
    """Whether a clearance's quote names the offer (found through its works: indexed)."""
    works = (
        [offer.work_id]
        if offer.work_id
        else list(offer.collection.works.values_list("pk", flat=True))
    )
    return ClearanceItem.objects.filter(work_id__in=works, offer=offer).exists()
