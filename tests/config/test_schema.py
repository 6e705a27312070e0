"""The OpenAPI schema and its browsable docs are served without a key, offline; the
schema documents every error an operation may answer and the `Idempotency-Key`."""

import pytest
from django.test import Client

from config.api.idempotency import KEY_LENGTH_MAX

pytestmark = pytest.mark.django_db


def test_schema_is_served_as_openapi_json() -> None:
    response = Client().get("/api/v1/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Accord API"
    assert "bearerAuth" in schema["components"]["securitySchemes"]


def test_docs_page_loads_its_assets_locally() -> None:
    response = Client().get("/api/v1/docs/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn.jsdelivr.net" not in html


def test_every_operation_documents_its_errors_with_the_error_body() -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    undocumented = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if method not in {"get", "post", "patch", "put", "delete"}:
                continue
            errors = {code: body for code, body in operation["responses"].items() if code[0] == "4"}
            documented = [code for code, body in errors.items() if "ErrorBody" in str(body)]
            public = operation.get("security") in (None, [], [{}])
            if not documented or (not public and "401" not in errors) or "429" not in errors:
                undocumented.append(f"{method.upper()} {path}: {sorted(errors)}")
    assert undocumented == []


# --- Idempotency-Key ------------------------------------------------------------------

# What the idempotency middleware answers itself, on any operation it covers.
IDEMPOTENCY_ERRORS = {
    "400": "idempotency_key_invalid",
    "409": "idempotency_key_in_use",
    "422": "idempotency_key_reused",
}


def _operations(schema: dict) -> dict[str, tuple[str, str, dict]]:
    return {
        operation["operationId"]: (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "operationId" in operation
    }


def _idempotency_key(operation: dict) -> dict | None:
    headers = [
        parameter
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "header" and parameter["name"] == "Idempotency-Key"
    ]
    assert len(headers) <= 1
    return headers[0] if headers else None


def test_buying_a_license_documents_the_idempotency_key_and_its_replay() -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    _, _, operation = _operations(schema)["licenses_create"]

    header = _idempotency_key(operation)

    assert header is not None
    assert header["required"] is False
    assert header["schema"] == {"type": "string", "minLength": 1, "maxLength": KEY_LENGTH_MAX}
    replayed = {
        status
        for status, response in operation["responses"].items()
        if "Idempotent-Replayed" in response.get("headers", {})
    }
    # Stored, so replayed: every answer below 500 but a 401, a 409 and a 429.
    assert replayed == {"201", "400", "402", "403", "404", "422"}
    assert operation["responses"]["201"]["headers"]["Idempotent-Replayed"]["schema"] == {
        "type": "string",
        "enum": ["true"],
    }


def test_every_post_under_the_api_documents_the_idempotency_key_and_its_errors() -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    posts = {
        operation_id: operation
        for operation_id, (method, path, operation) in _operations(schema).items()
        if method == "post" and path.startswith("/api/")
    }

    missing = [
        operation_id for operation_id, operation in posts.items() if not _idempotency_key(operation)
    ]
    undocumented = [
        f"{operation_id} {status}"
        for operation_id, operation in posts.items()
        for status, code in IDEMPOTENCY_ERRORS.items()
        if code not in operation["responses"].get(status, {}).get("description", "")
    ]

    assert {"licenses_create", "me_works_create", "certificates_verify"} <= set(posts)
    assert missing == []
    assert undocumented == []


def test_operations_the_middleware_ignores_do_not_document_the_key() -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    ignored = {
        operation_id
        for operation_id, (method, path, operation) in _operations(schema).items()
        if method != "post" or not path.startswith("/api/")
    }
    documented = {
        operation_id
        for operation_id, (_, _, operation) in _operations(schema).items()
        if _idempotency_key(operation) is not None
    }

    assert "me_works_partial_update" in ignored
    assert documented & ignored == set()


# --- Words and examples (issue 19, item 11) ---------------------------------------------


def _schema_operations() -> list[tuple[str, str, dict]]:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    return [
        (method, path, operation)
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in {"get", "post", "patch", "put", "delete"}
    ]


def test_every_operation_has_a_summary_and_a_description() -> None:
    operations = _schema_operations()
    missing = [
        f"{method.upper()} {path}"
        for method, path, operation in operations
        if not operation.get("summary", "").strip()
        or len(operation.get("description", "").strip()) < 20
    ]
    assert len(operations) >= 30
    assert missing == []


def test_every_request_body_has_an_example() -> None:
    bodies = [
        (f"{method.upper()} {path}", operation["requestBody"])
        for method, path, operation in _schema_operations()
        if "requestBody" in operation
    ]
    without = [
        name
        for name, body in bodies
        if not any(media.get("examples") for media in body["content"].values())
    ]
    assert len(bodies) >= 8
    assert without == []


def test_every_amount_in_the_schema_says_it_is_in_the_minor_unit() -> None:
    schema = Client().get("/api/v1/schema/", {"format": "json"}).json()
    amounts = {
        f"{name}.{field}": spec.get("description", "")
        for name, component in schema["components"]["schemas"].items()
        for field, spec in component.get("properties", {}).items()
        if field in {"amount", "minimum_amount", "unit_amount_decimal"}
    }
    assert len(amounts) >= 6
    assert {name: text for name, text in amounts.items() if "minor unit" not in text} == {}
