"""Fixtures for the catalogue's tests: creators, works and offers (tests/factories.py)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from licensing.models import Creator, Offer, Work
from licensing.services.offers import OfferTerms
from tests.factories import (
    CreatorFactory,
    OfferFactory,
    OfferTermsFactory,
    WorkFactory,
    api_key_for,
)


@pytest.fixture
def make_creator(db: Any) -> Callable[..., Creator]:
    def make(username: str | None = None, **kwargs: Any) -> Creator:
        kwargs.setdefault("password", "correct horse battery staple")
        return CreatorFactory(**({"username": username} if username else {}), **kwargs)

    return make


@pytest.fixture
def make_work(db: Any) -> Callable[..., Work]:
    def make(creator: Creator, **kwargs: Any) -> Work:
        return WorkFactory(creator=creator, **kwargs)

    return make


def flat_terms(**overrides: Any) -> OfferTerms:
    return OfferTermsFactory(**overrides)


def per_unit_terms(**overrides: Any) -> OfferTerms:
    return OfferTermsFactory(per_unit=True, **overrides)


@pytest.fixture
def make_offer(db: Any) -> Callable[..., Offer]:
    def make(
        creator: Creator,
        *,
        work: Work | None = None,
        collection: Any = None,
        use: str = "ai-train",
        terms: OfferTerms | None = None,
        status: str = Offer.Status.ACTIVE,
    ) -> Offer:
        return OfferFactory(
            creator=creator,
            work=work,
            collection=collection,
            use=use,
            terms=terms or flat_terms(),
            status=status,
        )

    return make


@pytest.fixture
def creator_key(db: Any) -> Callable[[Creator], str]:
    return api_key_for


@pytest.fixture
def client_for(creator_key: Callable[[Creator], str]) -> Callable[[Creator], APIClient]:
    """An API client authenticated with a fresh key of the given creator."""

    def build(creator: Creator) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {creator_key(creator)}")
        return client

    return build


@pytest.fixture
def alice(make_creator: Callable[..., Creator]) -> Creator:
    return make_creator("alice", display_name="Alice Atelier")


@pytest.fixture
def bob(make_creator: Callable[..., Creator]) -> Creator:
    return make_creator("bob", display_name="Bob Books")


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Hash test passwords cheaply; the real hasher's cost is the point in production."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
