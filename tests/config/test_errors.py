"""Every failure answers with API.md's error body, whatever raised it."""

from __future__ import annotations

import json
import logging

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.urls_for_tests")]


def assert_error_body(response, *, status: int, code: str, error_type: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"type", "code", "message", "param", "details"}
    assert error["code"] == code
    assert error["type"] == error_type
    assert error["message"]
    return error


def test_malformed_json_is_400(api_client: Client) -> None:
    response = api_client.post(
        "/api/v1/_test/users", data="{not json", content_type="application/json"
    )
    assert_error_body(response, status=400, code="invalid_json", error_type="invalid_request_error")
    assert get_user_model().objects.count() == 0


def test_validation_error_names_the_field(api_client: Client) -> None:
    response = api_client.post(
        "/api/v1/_test/users", data={"name": "x", "count": 0}, content_type="application/json"
    )
    error = assert_error_body(
        response, status=400, code="parameter_invalid", error_type="invalid_request_error"
    )
    assert error["param"] == "count"
    assert error["details"] == [
        {"param": "count", "code": "min_value", "message": error["details"][0]["message"]}
    ]


def test_missing_field_is_parameter_missing(api_client: Client) -> None:
    response = api_client.post(
        "/api/v1/_test/users", data={"count": 2}, content_type="application/json"
    )
    error = assert_error_body(
        response, status=400, code="parameter_missing", error_type="invalid_request_error"
    )
    assert error["param"] == "name"


def test_no_key_is_401_with_challenge() -> None:
    response = Client().post("/api/v1/_test/users", data={}, content_type="application/json")
    assert_error_body(
        response, status=401, code="authentication_required", error_type="authentication_error"
    )
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header", ["Bearer wrong-key", "Basic dXNlcjpwYXNz", "Bearer", "Bearer two words"]
)
def test_bad_key_is_401(header: str) -> None:
    response = Client(HTTP_AUTHORIZATION=header).post(
        "/api/v1/_test/users", data={"name": "a", "count": 1}, content_type="application/json"
    )
    assert_error_body(
        response, status=401, code="invalid_api_key", error_type="authentication_error"
    )
    assert get_user_model().objects.count() == 0


def test_unknown_route_is_json_404() -> None:
    response = Client().get("/api/v1/no-such-thing")
    assert_error_body(response, status=404, code="not_found", error_type="not_found_error")


def test_wrong_method_is_405(api_client: Client) -> None:
    response = api_client.post("/api/v1/_test/read-only", data={}, content_type="application/json")
    assert_error_body(
        response, status=405, code="method_not_allowed", error_type="invalid_request_error"
    )


def test_body_over_the_limit_is_413(api_client: Client, settings) -> None:
    settings.API_MAX_BODY_BYTES = 1000
    body = json.dumps({"name": "x" * 2000, "count": 1})
    response = api_client.post("/api/v1/_test/users", data=body, content_type="application/json")
    assert_error_body(
        response, status=413, code="request_too_large", error_type="invalid_request_error"
    )
    assert get_user_model().objects.count() == 0


def test_domain_error_renders_its_code_and_status(api_client: Client) -> None:
    response = api_client.post("/api/v1/_test/rule", data={}, content_type="application/json")
    error = assert_error_body(
        response, status=422, code="offer_withdrawn", error_type="invalid_request_error"
    )
    assert error["param"] == "offer"


def test_unexpected_exception_is_json_500_logged_and_rolled_back(
    api_client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="accord.api"):
        response = api_client.post(
            "/api/v1/_test/explode", data={}, content_type="application/json"
        )
    error = assert_error_body(response, status=500, code="internal_error", error_type="api_error")
    assert "a bug" not in error["message"], "internals must not leak to clients"
    assert any("Unhandled error in ExplodingApi" in r.getMessage() for r in caplog.records)
    assert any(r.exc_info and "a bug" in str(r.exc_info[1]) for r in caplog.records)


def test_exception_outside_drf_is_json_500() -> None:
    response = Client(raise_request_exception=False).get("/_test/plain-explode")
    assert_error_body(response, status=500, code="internal_error", error_type="api_error")


def test_admin_keeps_html_404() -> None:
    response = Client().get("/admin/no-such-page/")
    assert response.status_code in (302, 404)
    assert not response.get("Content-Type", "").startswith("application/json")


def test_nested_list_errors_are_named_with_brackets() -> None:
    from rest_framework import serializers

    from config.api.exceptions import _flatten_validation_errors

    class Item(serializers.Serializer):
        units = serializers.IntegerField(min_value=1)

    class Batch(serializers.Serializer):
        events = Item(many=True)
        ids = serializers.ListField(child=serializers.IntegerField())

    batch = Batch(data={"events": [{"units": 1}, {"units": 0}], "ids": [1, "x"]})
    assert not batch.is_valid()
    params = sorted(item["param"] for item in _flatten_validation_errors(batch.errors))
    assert params == ["events[1].units", "ids[1]"]
