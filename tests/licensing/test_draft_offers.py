"""A draft offer is its creator's alone (issue 13, finding 3).

`GET /api/v1/offers/{draft}` is 404 `offer_not_found` for every key but its creator's,
with or without `?version=`, exactly as for an offer that does not exist.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from licensing.models import ApiKey
from licensing.services.api_keys import api_key_create
from licensing.services.creators import finance_user_create
from licensing.services.offers import offer_publish
from licensing.services.organizations import organization_create

pytestmark = pytest.mark.django_db


def _client(raw_key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    return client


@pytest.fixture
def draft(alice, make_work, make_offer) -> Any:
    return make_offer(alice, work=make_work(alice), status="draft")


@pytest.fixture
def readers(alice, bob) -> dict[str, APIClient]:
    organization = organization_create(slug="reader-lab", billing="invoice")
    finance = finance_user_create(username="fin-reader", password=None)
    keys = {
        "licensee": api_key_create(kind=ApiKey.Kind.ORGANIZATION, organization=organization),
        "other_creator": api_key_create(kind=ApiKey.Kind.CREATOR, creator=bob),
        "finance": api_key_create(kind=ApiKey.Kind.FINANCE, user=finance),
        "owner": api_key_create(kind=ApiKey.Kind.CREATOR, creator=alice),
    }
    return {role: _client(raw_key) for role, (_, raw_key) in keys.items()}


@pytest.mark.parametrize("role", ["licensee", "other_creator", "finance"])
@pytest.mark.parametrize("query", ["", "?version=1"])
def test_a_draft_is_not_found_for_anyone_but_its_creator(draft, readers, role, query) -> None:
    response = readers[role].get(f"/api/v1/offers/{draft.public_id}{query}")
    missing = readers[role].get(f"/api/v1/offers/off_doesnotexist{query}")

    assert response.status_code == 404
    assert response.json() == missing.json()  # nothing tells a draft from nothing


@pytest.mark.parametrize("query", ["", "?version=1"])
def test_its_creator_reads_the_draft(draft, readers, query) -> None:
    response = readers["owner"].get(f"/api/v1/offers/{draft.public_id}{query}")

    assert response.status_code == 200
    assert response.json()["status"] == "draft"


def test_a_published_draft_is_readable_by_everyone(draft, readers) -> None:
    offer_publish(offer=draft)

    response = readers["licensee"].get(f"/api/v1/offers/{draft.public_id}?version=1")

    assert response.status_code == 200
    assert response.json()["status"] == "active"
