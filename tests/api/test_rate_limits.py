"""Refused keys and the JWKS are rate limited per address (issue 13, finding 11)."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def _assert_throttled(response) -> None:
    assert response.status_code == 429, response.content
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(response["Retry-After"]) <= 60


def test_invalid_keys_are_counted_per_address_then_refused_with_429(
    small_world, settings, one_rate_window
) -> None:
    settings.ACCORD_RATE_LIMITS = {"default": "9/min", "public": "9/min", "invalid_key": "3/min"}
    guesser = Client(REMOTE_ADDR="198.51.100.7")

    statuses = [
        guesser.get("/api/v1/works", HTTP_AUTHORIZATION=f"Bearer ak_live_guess{n}").status_code
        for n in range(3)
    ]
    malformed = guesser.get("/api/v1/works", HTTP_AUTHORIZATION="Basic abc")
    again = guesser.get("/api/v1/works", HTTP_AUTHORIZATION="Bearer ak_live_guess9")

    assert statuses == [401, 401, 401]
    _assert_throttled(malformed)
    _assert_throttled(again)
    # Another address still learns its key is wrong; a valid key from here still works.
    elsewhere = Client(REMOTE_ADDR="198.51.100.8")
    assert elsewhere.get("/api/v1/works", HTTP_AUTHORIZATION="Bearer ak_live_x").status_code == 401
    valid = guesser.get(
        "/api/v1/works", HTTP_AUTHORIZATION=f"Bearer {small_world.organization_key}"
    )
    assert valid.status_code == 200


def test_the_default_rate_refuses_a_flood_of_invalid_keys(db, one_rate_window) -> None:
    guesser = Client(REMOTE_ADDR="198.51.100.9")
    statuses = [
        guesser.get("/api/v1/works", HTTP_AUTHORIZATION=f"Bearer ak_live_{n}").status_code
        for n in range(40)
    ]
    assert statuses[:30] == [401] * 30
    assert set(statuses[30:]) == {429}


def test_the_jwks_is_limited_per_address_at_the_public_rate(db, settings, one_rate_window) -> None:
    settings.ACCORD_RATE_LIMITS = {"default": "100/min", "public": "2/min"}
    reader = Client(REMOTE_ADDR="203.0.113.5")

    statuses = [reader.get("/.well-known/accord-keys.json").status_code for _ in range(2)]
    limited = reader.get("/.well-known/accord-keys.json")

    assert statuses == [200, 200]
    _assert_throttled(limited)
    other = Client(REMOTE_ADDR="203.0.113.6").get("/.well-known/accord-keys.json")
    assert other.status_code == 200
    assert other.json().keys() == {"keys"}
