"""The OpenAPI schema and its browsable docs are served without a key, offline."""

import pytest
from django.test import Client

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
