"""The front door at `/`: what Accord is, and links that lead somewhere real."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_the_front_door_says_what_accord_is_and_links_the_ways_in() -> None:
    response = Client().get("/")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert "Content-Security-Policy" in response
    page = response.content.decode()
    assert "Accord is a registry and licensing service" in page
    links = set(re.findall(r'href="([^"#]+)"', page))
    assert {"/admin/", "/api/v1/docs/", "/robots.txt"} <= links
    assert 'action="/api/v1/registry"' in page
    assert 'name="isbn"' in page
    assert "style=" not in page  # the CSP allows no inline style


def test_every_link_on_the_front_door_answers(client: Client) -> None:
    page = client.get("/").content.decode()
    for link in sorted(set(re.findall(r'href="(/[^"#]*)"', page))):
        status = client.get(link).status_code
        assert status in (200, 302), f"{link}: {status}"  # the portal redirects to log in


def test_the_registry_form_is_answered_by_the_registry() -> None:
    # The form sends every field; the empty ones must not count as identifiers.
    response = Client().get(
        "/api/v1/registry",
        {"isbn": "978-0-306-40615-7", "isrc": "", "doi": "", "url": "", "sha256": ""},
    )
    assert response.status_code in (200, 404)
    assert response.json().get("error", {}).get("code") in (None, "work_not_found", "not_found")


def test_the_favicon_is_served() -> None:
    response = Client().get("/favicon.ico")
    assert response.status_code == 301
    assert response["Location"].endswith("accord/favicon.svg")
