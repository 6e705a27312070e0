"""OpenAPI pieces every endpoint shares: the error body and its documented codes.

`error_responses(400, 404, 422, codes={...})` gives a view's `extend_schema` the
error answers it can give, each with the error body's schema and the list of codes a
client should expect, so the schema says what a client must handle.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework import serializers

from config.errors import error_type_for_status

_STATUS_DESCRIPTIONS = {
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
_COMMON_CODES = {
    400: ["invalid_json", "parameter_missing", "parameter_invalid", "idempotency_key_invalid"],
    401: ["authentication_required", "invalid_api_key"],
    403: ["permission_denied"],
    404: ["not_found"],
    409: ["idempotency_key_in_use"],
    413: ["request_too_large"],
    422: ["idempotency_key_reused"],
    429: ["rate_limited"],
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
    *statuses: int, codes: Mapping[int, Iterable[str]] | None = None
) -> dict[int, OpenApiResponse]:
    """Document the error answers of one operation, with the codes each may carry."""
    codes = codes or {}
    responses = {}
    for status in statuses:
        status_codes = [*_COMMON_CODES.get(status, []), *codes.get(status, [])]
        description = _STATUS_DESCRIPTIONS.get(status, "Error.")
        if status_codes:
            description += " Codes: " + ", ".join(f"`{code}`" for code in status_codes) + "."
        example_code = status_codes[-1] if status_codes else "error"
        responses[status] = OpenApiResponse(
            response=ErrorBodySerializer,
            description=description,
            examples=[
                OpenApiExample(
                    example_code,
                    value={
                        "error": {
                            "type": str(error_type_for_status(status)),
                            "code": example_code,
                            "message": "A sentence for people.",
                            "param": None,
                            "details": None,
                        }
                    },
                    status_codes=[str(status)],
                    response_only=True,
                )
            ],
        )
    return responses
