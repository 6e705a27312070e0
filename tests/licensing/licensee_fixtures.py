"""Fixtures for the licensee side: organisations on both billings, a priced catalogue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from rest_framework.test import APIClient

from licensing.models import Collection, Creator, LicenseeOrganization, Offer, Work
from licensing.services.offers import OfferTerms
from licensing.services.works import ShareSpec
from tests.factories import (
    CollectionFactory,
    CreatorFactory,
    OfferFactory,
    OfferTermsFactory,
    OrganizationFactory,
    WorkFactory,
    api_key_for,
)


@dataclass
class Catalogue:
    alice: Creator
    bob: Creator
    solo_work: Work  # alice alone
    shared_work: Work  # alice 6,667 bp, bob 3,333 bp
    reserved_work: Work
    collection: Collection  # solo_work and shared_work
    flat_offer: Offer  # on shared_work, 10.00 eur for 365 days
    collection_flat_offer: Offer  # per work of the collection, 5.00 eur
    pool_offer: Offer  # the collection, 30.00 eur for 30 days
    per_unit_offer: Offer  # on solo_work, 0.042 cents per token
    usd_offer: Offer  # on solo_work, priced in usd


@pytest.fixture
def catalogue(db: Any) -> Catalogue:
    alice = CreatorFactory(username="alice")
    bob = CreatorFactory(username="bob")
    solo = WorkFactory(creator=alice, title="Solo", identifiers={"sha256": "a" * 64})
    shared = WorkFactory(
        creator=alice,
        title="Shared",
        kind="audio",
        shares=[ShareSpec(alice, 6_667), ShareSpec(bob, 3_333)],
    )
    reserved = WorkFactory(creator=alice, title="Kept back", kind="image", reserved=True)
    collection = CollectionFactory(creator=alice, title="Both", works=[solo, shared])

    def offer(terms: OfferTerms, *, work: Work | None = None, use: str = "ai-train") -> Offer:
        return OfferFactory(
            creator=alice, work=work, collection=None if work else collection, use=use, terms=terms
        )

    return Catalogue(
        alice=alice,
        bob=bob,
        solo_work=solo,
        shared_work=shared,
        reserved_work=reserved,
        collection=collection,
        flat_offer=offer(OfferTermsFactory(amount=1_000), work=shared),
        collection_flat_offer=offer(OfferTermsFactory(amount=500, term_days=90), use="ai-finetune"),
        pool_offer=offer(OfferTermsFactory(pool=True), use="ai-input"),
        per_unit_offer=offer(OfferTermsFactory(per_unit=True), work=solo, use="ai-eval"),
        usd_offer=offer(
            OfferTermsFactory(currency="usd", amount=700, term_days=30),
            work=solo,
            use="ai-finetune",
        ),
    )


@pytest.fixture
def invoice_org(db: Any) -> LicenseeOrganization:
    return OrganizationFactory(slug="invoice-lab", name="Invoice Lab")


@pytest.fixture
def card_org(stripe_sandbox_settings: Any) -> LicenseeOrganization:
    return OrganizationFactory(slug="card-lab", name="Card Lab", billing="card")


@pytest.fixture
def declining_org(stripe_sandbox_settings: Any) -> LicenseeOrganization:
    return OrganizationFactory(
        slug="declining-lab", billing="card", payment_method="pm_card_chargeDeclined"
    )


@pytest.fixture
def client_for() -> Callable[[LicenseeOrganization], APIClient]:
    def make(organization: LicenseeOrganization) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_key_for(organization)}")
        return client

    return make
