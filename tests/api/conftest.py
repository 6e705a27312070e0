"""A small real catalogue and one key per role, for the tests of hostile input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from licensing import services
from licensing.models import ApiKey, Offer
from licensing.organizations import organization_create


@dataclass
class SmallWorld:
    creator: Any
    organization: Any
    work: Any
    offer: Any
    collection: Any
    creator_key: str
    organization_key: str
    finance_key: str = ""

    def client(self, role: str | None) -> Client:
        """A client that answers 500s (never raises them), with the role's key if any."""
        keys = {
            "creator": self.creator_key,
            "organization": self.organization_key,
            "finance": self.finance_key,
        }
        headers = {"HTTP_AUTHORIZATION": f"Bearer {keys[role]}"} if role else {}
        return Client(raise_request_exception=False, **headers)


@pytest.fixture
def small_world(db: Any, settings: Any) -> SmallWorld:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    creator = services.creator_create(username="guard-alice", password=None)
    work = services.work_create(
        creator=creator,
        title="Harbour",
        kind="text",
        identifiers={"sha256": "b" * 64, "url": "https://alice.example/harbour"},
    )
    collection = services.collection_create(creator=creator, title="All", works=[work])
    offer = services.offer_create(
        creator=creator,
        work=work,
        use="ai-train",
        terms=services.OfferTerms(pricing="flat", currency="eur", amount=1_000, term_days=30),
        status=Offer.Status.ACTIVE,
    )
    organization = organization_create(slug="guard-lab", name="Guard Lab", billing="invoice")
    _, creator_key = services.api_key_create(kind=ApiKey.Kind.CREATOR, creator=creator)
    _, organization_key = services.api_key_create(
        kind=ApiKey.Kind.ORGANIZATION, organization=organization
    )
    finance = services.finance_user_create(username="guard-fiona")
    _, finance_key = services.api_key_create(kind=ApiKey.Kind.FINANCE, user=finance)
    return SmallWorld(
        finance_key=finance_key,
        creator=creator,
        organization=organization,
        work=work,
        offer=offer,
        collection=collection,
        creator_key=creator_key,
        organization_key=organization_key,
    )
