"""Fixtures for payouts: the licensee side's catalogue and organisations, finance users
and keys, API clients."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from licensing.models import ApiKey, Creator
from licensing.services.api_keys import api_key_create
from licensing.services.creators import finance_user_create
from tests.licensing.licensee_fixtures import card_org, catalogue, client_for, invoice_org  # noqa: F401


@pytest.fixture
def finance_user(db: Any) -> Any:
    return finance_user_create(username="fiona", email="fiona@accord.example")


@pytest.fixture
def second_finance_user(db: Any) -> Any:
    return finance_user_create(username="frank", email="frank@accord.example")


def _client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def finance_client_for() -> Callable[[Any], APIClient]:
    def make(user: Any) -> APIClient:
        _, raw_key = api_key_create(kind=ApiKey.Kind.FINANCE, user=user)
        return _client(raw_key)

    return make


@pytest.fixture
def finance_client(finance_user: Any, finance_client_for: Callable[[Any], APIClient]) -> APIClient:
    return finance_client_for(finance_user)


@pytest.fixture
def creator_client_for() -> Callable[[Creator], APIClient]:
    def make(creator: Creator) -> APIClient:
        _, raw_key = api_key_create(kind=ApiKey.Kind.CREATOR, creator=creator)
        return _client(raw_key)

    return make
