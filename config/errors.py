"""The error every app's services raise, and API.md's error types.

A service signals an expected failure (a rule broken, a conflict, a declined card) by
raising a subclass of `DomainError` that carries a stable code from its app's enum.
The API's single exception handler renders it; tests assert the code, not the text.
An `assert` stays for programmers' mistakes.
"""

from __future__ import annotations

import enum
from typing import Any


class ErrorType(enum.StrEnum):
    INVALID_REQUEST = "invalid_request_error"
    AUTHENTICATION = "authentication_error"
    PERMISSION = "permission_error"
    NOT_FOUND = "not_found_error"
    CONFLICT = "conflict_error"
    IDEMPOTENCY = "idempotency_error"
    PAYMENT = "payment_error"
    RATE_LIMIT = "rate_limit_error"
    API = "api_error"


class ApiErrorCode(enum.StrEnum):
    """The codes the API layer answers itself, whatever the app (config/api/)."""

    INVALID_JSON = "invalid_json"
    JSON_TOO_DEEP = "json_too_deep"
    PARAMETER_MISSING = "parameter_missing"
    PARAMETER_INVALID = "parameter_invalid"
    INVALID_CURSOR = "invalid_cursor"
    PATH_INVALID = "path_invalid"
    HEADER_INVALID = "header_invalid"
    IDEMPOTENCY_KEY_INVALID = "idempotency_key_invalid"
    AUTHENTICATION_REQUIRED = "authentication_required"
    INVALID_API_KEY = "invalid_api_key"
    PERMISSION_DENIED = "permission_denied"
    NOT_FOUND = "not_found"
    IDEMPOTENCY_KEY_IN_USE = "idempotency_key_in_use"
    REQUEST_TOO_LARGE = "request_too_large"
    IDEMPOTENCY_KEY_REUSED = "idempotency_key_reused"
    RATE_LIMITED = "rate_limited"
    RATE_LIMITER_UNAVAILABLE = "rate_limiter_unavailable"
    INTERNAL_ERROR = "internal_error"


def error_type_for_status(status_code: int) -> ErrorType:
    """Name the error type a bare HTTP status implies."""
    if status_code >= 500:
        return ErrorType.API
    return {
        401: ErrorType.AUTHENTICATION,
        402: ErrorType.PAYMENT,
        403: ErrorType.PERMISSION,
        404: ErrorType.NOT_FOUND,
        409: ErrorType.CONFLICT,
        429: ErrorType.RATE_LIMIT,
    }.get(status_code, ErrorType.INVALID_REQUEST)


class DomainError(Exception):
    """An expected failure of a service, with a stable machine-readable code.

    Subclasses set `http_status` (422 by default: valid input that breaks a rule).
    """

    http_status: int = 422

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        details: list[dict[str, Any]] | None = None,
        http_status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.code = str(code)
        self.message = message
        self.param = param
        self.details = details
        if http_status is not None:
            self.http_status = http_status

    @property
    def error_type(self) -> ErrorType:
        return error_type_for_status(self.http_status)


def error_body(
    *,
    error_type: str,
    code: str,
    message: str,
    param: str | None = None,
    details: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Build API.md's error body, the only shape an error response ever has."""
    return {
        "error": {
            "type": str(error_type),
            "code": str(code),
            "message": message,
            "param": param,
            "details": details,
        }
    }
