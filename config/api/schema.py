"""OpenAPI pieces every endpoint shares: the error body, its codes, and `Idempotency-Key`.

`error_responses(400, 404, 422, codes={...})` gives a view's `extend_schema` the
error answers it can give, each with the error body's schema and the list of codes a
client should expect, so the schema says what a client must handle.

`idempotency_key_document` is a postprocessing hook (SPECTACULAR_SETTINGS): the
idempotency middleware answers for every operation it covers, whatever the view, so
the hook documents its request header, its replay header and its errors on each of
those operations, and no view has to repeat them.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from config.api.idempotency import KEY_LENGTH_MAX, RELEASE_STATUSES
from config.errors import ApiErrorCode, error_type_for_status

_STATUS_DESCRIPTIONS = {
    503: "The payment provider or the rate limiter did not answer; retry later.",
    400: "Malformed request: bad JSON, or a parameter that fails validation.",
    401: "No API key, or a key that is not valid or has been revoked.",
    402: "The payment failed; nothing was bought.",
    403: "The key is not allowed to do this.",
    404: "Not found (also another tenant's object).",
    409: "Conflict: a request with this Idempotency-Key is still running, or the state changed.",
    413: "The request body is too large.",
    422: "Valid JSON that breaks a rule, or an Idempotency-Key reused with another body.",
    429: "Rate limited; retry after the number of seconds in Retry-After.",
}

# Codes any endpoint may answer with, whatever it does.
_COMMON_CODES: dict[int, list[enum.StrEnum]] = {
    400: [
        ApiErrorCode.INVALID_JSON,
        ApiErrorCode.PARAMETER_MISSING,
        ApiErrorCode.PARAMETER_INVALID,
        ApiErrorCode.IDEMPOTENCY_KEY_INVALID,
    ],
    401: [ApiErrorCode.AUTHENTICATION_REQUIRED, ApiErrorCode.INVALID_API_KEY],
    403: [ApiErrorCode.PERMISSION_DENIED],
    404: [ApiErrorCode.NOT_FOUND],
    409: [ApiErrorCode.IDEMPOTENCY_KEY_IN_USE],
    413: [ApiErrorCode.REQUEST_TOO_LARGE],
    422: [ApiErrorCode.IDEMPOTENCY_KEY_REUSED],
    429: [ApiErrorCode.RATE_LIMITED],
}


class ErrorDetailSerializer(serializers.Serializer):
    param = serializers.CharField(allow_null=True)
    code = serializers.CharField()
    message = serializers.CharField()
    index = serializers.IntegerField(required=False)


class ErrorSerializer(serializers.Serializer):
    type = serializers.CharField()
    code = serializers.CharField()
    message = serializers.CharField()
    param = serializers.CharField(allow_null=True)
    details = ErrorDetailSerializer(many=True, allow_null=True)


class ErrorBodySerializer(serializers.Serializer):
    error = ErrorSerializer()


def error_responses(
    *statuses: int, codes: Mapping[int, Iterable[enum.StrEnum]] | None = None
) -> dict[int, OpenApiResponse]:
    """Document the error answers of one operation, with the codes each may carry.

    Codes are members of the apps' error code enums (`LicensingErrorCode`,
    `ApiErrorCode`, ...), never typed-in strings, so a renamed code cannot leave the
    schema behind; tests/licensing/api/test_error_codes_documented.py checks that each
    code an operation's services can raise is listed.
    """
    codes = codes or {}
    assert set(codes) <= set(statuses), "document the status of every code"
    responses = {}
    for status in statuses:
        status_codes = [*_COMMON_CODES.get(status, []), *codes.get(status, [])]
        assert all(isinstance(code, enum.Enum) for code in status_codes), status_codes
        example_code = status_codes[-1] if status_codes else "error"
        responses[status] = OpenApiResponse(
            response=ErrorBodySerializer,
            description=_error_description(status, status_codes),
            examples=[
                OpenApiExample(
                    example_code,
                    value=_error_example(status, example_code),
                    status_codes=[str(status)],
                    response_only=True,
                )
            ],
        )
    return responses


def _error_description(status: int, status_codes: Iterable[str]) -> str:
    description = _STATUS_DESCRIPTIONS.get(status, "Error.")
    if status_codes:
        description += " Codes: " + ", ".join(f"`{code}`" for code in status_codes) + "."
    return description


def _error_example(status: int, code: str) -> dict[str, Any]:
    return {
        "error": {
            "type": str(error_type_for_status(status)),
            "code": code,
            "message": "A sentence for people.",
            "param": None,
            "details": None,
        }
    }


# --- Idempotency-Key ------------------------------------------------------------------

# What the middleware in config/api/idempotency.py covers: a POST whose path is under
# /api/. A key sent with another method is ignored, so it is not documented there.
IDEMPOTENT_METHODS = frozenset({"post"})
IDEMPOTENT_PATH_PREFIX = "/api/"
IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"
IDEMPOTENT_REPLAYED_HEADER = "Idempotent-Replayed"
# The answers the middleware itself gives, whatever the operation: a key that is empty
# or too long, a key still in flight, a key reused with another body.
_IDEMPOTENCY_ERRORS = {
    400: ApiErrorCode.IDEMPOTENCY_KEY_INVALID,
    409: ApiErrorCode.IDEMPOTENCY_KEY_IN_USE,
    422: ApiErrorCode.IDEMPOTENCY_KEY_REUSED,
}


def _idempotency_key_parameter() -> dict[str, Any]:
    return {
        "in": "header",
        "name": IDEMPOTENCY_KEY_HEADER,
        "required": False,
        "schema": {"type": "string", "minLength": 1, "maxLength": KEY_LENGTH_MAX},
        "description": (
            "Makes the request safe to retry. A repeat with the same key and the same body"
            f" gets the first answer back, with `{IDEMPOTENT_REPLAYED_HEADER}: true`; the"
            " same key with another body is 422 `idempotency_key_reused`; a repeat while"
            " the first is still running is 409 `idempotency_key_in_use`. Keys are scoped"
            " to the credentials and remembered for"
            f" {settings.IDEMPOTENCY_RETENTION_HOURS} hours."
        ),
    }


def _idempotent_replayed_header() -> dict[str, Any]:
    return {
        "description": (
            f"`true` when this answer is the stored answer to an earlier request with the"
            f" same `{IDEMPOTENCY_KEY_HEADER}` and body, replayed without running it again."
        ),
        "schema": {"type": "string", "enum": ["true"]},
    }


def _is_replayable(status: str) -> bool:
    """Whether the middleware stores, and so may replay, an answer with this status."""
    if not status.isdigit():
        return True  # "default" or a range: it may stand for a replayable status
    return int(status) < 500 and int(status) not in RELEASE_STATUSES


def _idempotency_error_response(status: int, code: str) -> dict[str, Any]:
    return {
        "description": _error_description(status, [code]),
        "content": {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/ErrorBody"},
                "examples": {
                    code: {"value": _error_example(status, code), "summary": code},
                },
            }
        },
    }


def idempotency_key_document(result: dict[str, Any], generator: Any, **kwargs: Any) -> dict:
    """Document `Idempotency-Key` on every operation the idempotency middleware covers.

    Each gets the optional request header, the `Idempotent-Replayed` header on every
    answer that may be replayed, and the middleware's own errors if the view did not
    already document their status.
    """
    for path, operations in result.get("paths", {}).items():
        if not path.startswith(IDEMPOTENT_PATH_PREFIX):
            continue
        for method, operation in operations.items():
            if method not in IDEMPOTENT_METHODS:
                continue
            parameters = operation.setdefault("parameters", [])
            if not any(
                parameter.get("in") == "header" and parameter.get("name") == IDEMPOTENCY_KEY_HEADER
                for parameter in parameters
            ):
                parameters.append(_idempotency_key_parameter())
            responses = operation.setdefault("responses", {})
            for status, code in _IDEMPOTENCY_ERRORS.items():
                responses.setdefault(str(status), _idempotency_error_response(status, code))
            for status, response in responses.items():
                if _is_replayable(status):
                    headers = response.setdefault("headers", {})
                    headers[IDEMPOTENT_REPLAYED_HEADER] = _idempotent_replayed_header()
    return result
