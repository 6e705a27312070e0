"""A small real catalogue and one key per role, for the tests of hostile input."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

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
    creator = CreatorFactory(username="guard-alice")
    work = WorkFactory(
        creator=creator,
        title="Harbour",
        identifiers={"sha256": "b" * 64, "url": "https://alice.example/harbour"},
    )
    collection = CollectionFactory(creator=creator, title="All", works=[work])
    offer = OfferFactory(work=work, terms=OfferTermsFactory(amount=1_000, term_days=30))
    organization = OrganizationFactory(slug="guard-lab", name="Guard Lab")
    creator_key, organization_key = api_key_for(creator), api_key_for(organization)
    return SmallWorld(
        creator=creator,
        organization=organization,
        work=work,
        offer=offer,
        collection=collection,
        creator_key=creator_key,
        organization_key=organization_key,
        finance_key=_finance_key(),
    )


def _finance_key() -> str:
    from licensing.models import ApiKey
    from licensing.services.api_keys import api_key_create
    from licensing.services.creators import finance_user_create

    _, raw = api_key_create(
        kind=ApiKey.Kind.FINANCE, user=finance_user_create(username="guard-fin")
    )
    return raw
