"""Hostile input is a 400 with API.md's error body, never a 500 (issue 13, finding 8).

NUL characters in a path, a query or a header; JSON nested 5,000 deep on every JSON
write the schema documents (the keyless one too, and with an `Idempotency-Key`, which
its middleware reads first); a lone UTF-16 surrogate in a choice field. Each rejected
write is checked to have written nothing. NUL reached PostgreSQL as a 500, so these
tests matter most on PostgreSQL, but they pin the 400 on SQLite as well.
"""

from __future__ import annotations

import pytest
from django.test import Client

from licensing.models import Work

pytestmark = pytest.mark.django_db

DEEP_JSON = "[" * 5_000 + "]" * 5_000
DEEP_OBJECT = '{"a":' * 5_000 + "1" + "}" * 5_000


def _assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content[:300]
    error = response.json()["error"]
    assert set(error) == {"type", "code", "message", "param", "details"}
    assert error["code"] == code
    return error


@pytest.mark.parametrize(
    ("role", "path", "param"),
    [
        ("organization", "/api/v1/works?q=%00", "q"),
        ("organization", "/api/v1/works?use=ai-train&q=a%00b", "q"),
        ("organization", "/api/v1/works?%00=1", "\x00"),
        (None, "/api/v1/registry?sha256=%00", "sha256"),
        (None, "/api/v1/registry?url=http://%00", "url"),
        (None, "/.well-known/tdmrep.json?origin=http://%00", "origin"),
        (None, "/.well-known/tdmrep.json?origin=https://alice.example%00", "origin"),
    ],
)
def test_a_nul_in_a_query_parameter_is_400_naming_it(small_world, role, path, param) -> None:
    error = _assert_error(small_world.client(role).get(path), 400, "parameter_invalid")
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (None, "/works/%00"),
        (None, "/works/%00/license.xml"),
        ("organization", "/api/v1/works/%00"),
        ("organization", "/api/v1/offers/off_%00"),
        ("creator", "/api/v1/me/works/%00"),
    ],
)
def test_a_nul_in_the_path_is_400(small_world, role, path) -> None:
    _assert_error(small_world.client(role).get(path), 400, "path_invalid")


def test_a_nul_in_a_header_is_400_and_the_write_does_not_happen(small_world) -> None:
    client = small_world.client("creator")
    works_before = Work.objects.count()
    response = client.post(
        "/api/v1/me/works",
        {"title": "Another", "kind": "text"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-\x00",
    )
    error = _assert_error(response, 400, "header_invalid")
    assert error["param"] == "Idempotency-Key"
    assert Work.objects.count() == works_before


def test_a_nul_in_an_admin_query_is_the_portal_400_page() -> None:
    response = Client(raise_request_exception=False).get("/admin/login/?next=%00")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


def _json_writes() -> list[tuple[str, str]]:
    """Every JSON write the served schema documents, as (method, path template)."""
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    return [
        (method, path)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"post", "put", "patch"}
        and "application/json" in operation.get("requestBody", {}).get("content", {})
    ]


FINANCE_PATHS = (
    "/api/v1/royalty-runs",
    "/api/v1/ledger/",
    "/api/v1/payout-batches",
    "/api/v1/creators/",
    "/api/v1/reconciliation",
)


def _role_and_path(small_world, path: str) -> tuple[str | None, str]:
    """The key that may call `path`, and the path with real ids of its objects."""
    filled = (
        path.replace("{work_id}", small_world.work.public_id)
        .replace("{offer_id}", small_world.offer.public_id)
        .replace("{collection_id}", small_world.collection.public_id)
        .replace("{creator_id}", small_world.creator.public_id)
    )
    assert "{" not in filled, f"no real id for {path}: teach this test its parameter"
    if path == "/api/v1/certificates/verify":
        return None, filled
    if path.startswith(FINANCE_PATHS):
        return "finance", filled
    return ("creator" if path.startswith("/api/v1/me/") else "organization"), filled


@pytest.mark.parametrize("body", [DEEP_JSON, DEEP_OBJECT], ids=["arrays", "objects"])
@pytest.mark.parametrize("with_idempotency_key", [False, True], ids=["no-key", "with-key"])
def test_json_nested_5000_deep_is_400_on_every_json_write(
    small_world, body, with_idempotency_key
) -> None:
    writes = _json_writes()
    assert len(writes) >= 8  # the schema really was read: licenses, verify, me/…
    works_before = Work.objects.count()
    for method, template in writes:
        role, path = _role_and_path(small_world, template)
        key = f"deep-{method}-{template}"
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if with_idempotency_key else {}
        send = getattr(small_world.client(role), method)
        response = send(path, body, content_type="application/json", **headers)
        error = _assert_error(response, 400, "json_too_deep")
        assert error["type"] == "invalid_request_error", (method, path)
    assert Work.objects.count() == works_before


def test_a_lone_surrogate_in_a_choice_field_is_400_and_writes_nothing(small_world) -> None:
    works_before = Work.objects.count()
    response = small_world.client("creator").post(
        "/api/v1/me/works", '{"title": "t", "kind": "\\ud800"}', content_type="application/json"
    )
    _assert_error(response, 400, "invalid_json")
    response = small_world.client("organization").post(
        "/api/v1/licenses",
        '{"offer": "' + small_world.offer.public_id + '", "works": ["\\udfff"]}',
        content_type="application/json",
    )
    _assert_error(response, 400, "invalid_json")
    assert Work.objects.count() == works_before


def test_a_surrogate_pair_is_one_character_and_is_accepted(small_world) -> None:
    response = small_world.client("creator").post(
        "/api/v1/me/works",
        '{"title": "Harbour \\ud83c\\udf0a", "kind": "text"}',
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["title"] == "Harbour \N{WATER WAVE}"
