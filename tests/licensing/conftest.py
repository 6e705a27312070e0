"""Fixtures for the catalogue's tests: creators, works and offers made by the real services."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from licensing import services
from licensing.models import ApiKey, Creator, Offer, Work

_sequence = itertools.count(1)


def _next() -> int:
    return next(_sequence)


@pytest.fixture
def make_creator(db: Any) -> Callable[..., Creator]:
    def make(username: str | None = None, **kwargs: Any) -> Creator:
        username = username or f"creator{_next()}"
        kwargs.setdefault("password", "correct horse battery staple")
        return services.creator_create(username=username, **kwargs)

    return make


@pytest.fixture
def make_work(db: Any) -> Callable[..., Work]:
    def make(creator: Creator, **kwargs: Any) -> Work:
        kwargs.setdefault("title", f"Work {_next()}")
        kwargs.setdefault("kind", "text")
        return services.work_create(creator=creator, **kwargs)

    return make


def flat_terms(**overrides: Any) -> services.OfferTerms:
    values = {"pricing": "flat", "currency": "eur", "amount": 1_250, "term_days": 365}
    values.update(overrides)
    return services.OfferTerms(**values)


def per_unit_terms(**overrides: Any) -> services.OfferTerms:
    values = {
        "pricing": "per_unit",
        "currency": "eur",
        "unit": "token",
        "unit_amount_decimal": Decimal("0.042"),
    }
    values.update(overrides)
    return services.OfferTerms(**values)


@pytest.fixture
def make_offer(db: Any) -> Callable[..., Offer]:
    def make(
        creator: Creator,
        *,
        work: Work | None = None,
        collection: Any = None,
        use: str = "ai-train",
        terms: services.OfferTerms | None = None,
        status: str = Offer.Status.ACTIVE,
    ) -> Offer:
        return services.offer_create(
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
    def mint(creator: Creator) -> str:
        _, raw_key = services.api_key_create(kind=ApiKey.Kind.CREATOR, creator=creator)
        return raw_key

    return mint


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
