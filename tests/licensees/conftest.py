"""Fixtures for the licensee side: organisations on both billings, a priced catalogue."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from licensing import services
from licensing.models import ApiKey, Collection, Creator, LicenseeOrganization, Offer, Work
from licensing.organizations import organization_create


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
    alice = services.creator_create(username="alice", password=None)
    bob = services.creator_create(username="bob", password=None)
    solo = services.work_create(
        creator=alice, title="Solo", kind="text", identifiers={"sha256": "a" * 64}
    )
    shared = services.work_create(
        creator=alice,
        title="Shared",
        kind="audio",
        shares=[services.ShareSpec(alice, 6_667), services.ShareSpec(bob, 3_333)],
    )
    reserved = services.work_create(creator=alice, title="Kept back", kind="image", reserved=True)
    collection = services.collection_create(creator=alice, title="Both", works=[solo, shared])

    def offer(
        terms: services.OfferTerms, *, work: Work | None = None, use: str = "ai-train"
    ) -> Offer:
        return services.offer_create(
            creator=alice,
            work=work,
            collection=None if work else collection,
            use=use,
            terms=terms,
            status=Offer.Status.ACTIVE,
        )

    return Catalogue(
        alice=alice,
        bob=bob,
        solo_work=solo,
        shared_work=shared,
        reserved_work=reserved,
        collection=collection,
        flat_offer=offer(
            services.OfferTerms(pricing="flat", currency="eur", amount=1_000, term_days=365),
            work=shared,
        ),
        collection_flat_offer=offer(
            services.OfferTerms(pricing="flat", currency="eur", amount=500, term_days=90),
            use="ai-finetune",
        ),
        pool_offer=offer(
            services.OfferTerms(pricing="pool", currency="eur", amount=3_000, term_days=30),
            use="ai-input",
        ),
        per_unit_offer=offer(
            services.OfferTerms(
                pricing="per_unit",
                currency="eur",
                unit="token",
                unit_amount_decimal=Decimal("0.042"),
            ),
            work=solo,
            use="ai-eval",
        ),
        usd_offer=offer(
            services.OfferTerms(pricing="flat", currency="usd", amount=700, term_days=30),
            work=solo,
            use="ai-finetune",
        ),
    )


@pytest.fixture
def invoice_org(db: Any) -> LicenseeOrganization:
    return organization_create(slug="invoice-lab", name="Invoice Lab", billing="invoice")


@pytest.fixture
def card_org(stripe_sandbox_settings: Any) -> LicenseeOrganization:
    return organization_create(
        slug="card-lab", name="Card Lab", billing="card", payment_method="pm_card_visa"
    )


@pytest.fixture
def declining_org(stripe_sandbox_settings: Any) -> LicenseeOrganization:
    return organization_create(
        slug="declining-lab", billing="card", payment_method="pm_card_chargeDeclined"
    )


@pytest.fixture
def client_for() -> Callable[[LicenseeOrganization], APIClient]:
    def make(organization: LicenseeOrganization) -> APIClient:
        _, raw_key = services.api_key_create(
            kind=ApiKey.Kind.ORGANIZATION, organization=organization
        )
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
        return client

    return make
