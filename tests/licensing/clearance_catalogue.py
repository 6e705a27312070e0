"""A catalogue for clearances: every identifier kind and every way an item can end."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from licensing.models import Collection, Creator, Offer, Work
from licensing.services.collections import collection_create
from licensing.services.creators import creator_create
from licensing.services.offers import OfferTerms, offer_create
from licensing.services.works import ShareSpec, work_create, work_reserve

USE = "ai-train"
UNKNOWN_SHA = "f" * 64


@dataclass
class ClearanceCatalogue:
    alice: Creator
    bob: Creator
    by_sha: Work  # flat 10.00, alice and bob
    by_isbn: Work  # two flat offers, 8.00 and 6.00: the 6.00 one is chosen
    pooled_doi: Work  # in `pooled`, whose pool offer is 30.00
    pooled_isrc: Work
    reserved_url: Work
    not_offered: Work  # no offer at all
    usd_only: Work  # an offer in another currency
    per_unit: Work
    held: Work  # flat 5.00; the organisation buys it before the clearance
    pooled: Collection
    sha_offer: Offer
    isbn_cheap: Offer
    isbn_dear: Offer
    pool_offer: Offer
    per_unit_offer: Offer
    held_offer: Offer


def _offer(creator: Creator, terms: OfferTerms, **target: object) -> Offer:
    return offer_create(
        creator=creator,
        work=target.get("work"),
        collection=target.get("collection"),
        use=USE,
        terms=terms,
        status=Offer.Status.ACTIVE,
    )


def flat(amount: int, currency: str = "eur") -> OfferTerms:
    return OfferTerms(pricing="flat", currency=currency, amount=amount, term_days=365)


def clearance_catalogue() -> ClearanceCatalogue:
    alice = creator_create(username="alice", password=None)
    bob = creator_create(username="bob", password=None)

    def work(title: str, **identifiers: str) -> Work:
        return work_create(creator=alice, title=title, kind="text", identifiers=identifiers)

    by_sha = work_create(
        creator=alice,
        title="By sha",
        kind="image",
        identifiers={"sha256": "a" * 64},
        shares=[ShareSpec(alice, 6_667), ShareSpec(bob, 3_333)],
    )
    by_isbn = work("By isbn", isbn="978-0-306-40615-7")
    pooled_doi = work("Pooled doi", doi="10.1000/XYZ123")
    pooled_isrc = work("Pooled isrc", isrc="US-S1Z-99-00001")
    reserved_url = work("Reserved url", url="https://Example.com/a.txt")
    work_reserve(work=reserved_url)
    not_offered = work("Not offered", sha256="b" * 64)
    usd_only = work("Usd only", sha256="c" * 64)
    per_unit = work("Per unit", sha256="d" * 64)
    held = work("Held", sha256="e" * 64)
    pooled = collection_create(creator=alice, title="Pool", works=[pooled_doi, pooled_isrc])
    _offer(alice, flat(700, "usd"), work=usd_only)
    return ClearanceCatalogue(
        alice=alice,
        bob=bob,
        by_sha=by_sha,
        by_isbn=by_isbn,
        pooled_doi=pooled_doi,
        pooled_isrc=pooled_isrc,
        reserved_url=reserved_url,
        not_offered=not_offered,
        usd_only=usd_only,
        per_unit=per_unit,
        held=held,
        pooled=pooled,
        sha_offer=_offer(alice, flat(1_000), work=by_sha),
        isbn_dear=_offer(alice, flat(800), work=by_isbn),
        isbn_cheap=_offer(alice, flat(600), work=by_isbn),
        pool_offer=_offer(
            alice,
            OfferTerms(pricing="pool", currency="eur", amount=3_000, term_days=30),
            collection=pooled,
        ),
        per_unit_offer=_offer(
            alice,
            OfferTerms(
                pricing="per_unit", currency="eur", unit="token", unit_amount_decimal=Decimal("0.5")
            ),
            work=per_unit,
        ),
        held_offer=_offer(alice, flat(500), work=held),
    )


def mixed_manifest(catalogue: ClearanceCatalogue) -> list[str]:
    """Every kind, every outcome, and duplicates spelled differently (17 entries, 12 distinct)."""
    return [
        "sha256:" + "a" * 64,
        "sha256:" + "A" * 64,  # the same digest, upper case: a duplicate
        catalogue.by_sha.public_id,  # the same work by our id: another identifier, one work
        "isbn:0-306-40615-2",  # ISBN-10 of by_isbn
        "isbn:9780306406157",  # its ISBN-13: the same identifier once normalised
        "doi:https://doi.org/10.1000/xyz123",
        "isrc:USS1Z9900001",
        "url:https://EXAMPLE.com/a.txt",
        "sha256:" + "b" * 64,  # not offered
        "sha256:" + "c" * 64,  # offered in usd only
        "sha256:" + "d" * 64,  # per unit
        "sha256:" + "e" * 64,  # already licensed
        "sha256:" + UNKNOWN_SHA,
        "isbn:978-3-16-148410-0",  # a valid ISBN nobody registered
        "sha256:" + UNKNOWN_SHA,  # duplicate unknown
        " sha256:" + "d" * 64 + " ",  # duplicate with spaces
        "doi:10.1000/xyz123",  # duplicate DOI
    ]
