"""Render every failure as API.md's error body.

`api_exception_handler` is DRF's single exception handler: it turns DRF's own
exceptions, `DomainError`s and, last, any unexpected exception into the same JSON
shape, so a 500 is JSON too and is logged with its traceback. The `handler*` views do
the same for requests that never reach DRF (unknown routes, errors in plain views).
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults as django_defaults
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config.errors import DomainError, ErrorType, error_body, error_type_for_status

logger = logging.getLogger("accord.api")

_DRF_CODE_OVERRIDES: dict[type[Exception], tuple[str, str]] = {
    drf_exceptions.ParseError: ("invalid_json", "The request body is not valid JSON."),
    drf_exceptions.NotAuthenticated: (
        "authentication_required",
        "Send your API key as 'Authorization: Bearer <key>'.",
    ),
    drf_exceptions.MethodNotAllowed: ("method_not_allowed", ""),
    drf_exceptions.UnsupportedMediaType: ("unsupported_media_type", ""),
    drf_exceptions.NotAcceptable: ("not_acceptable", ""),
    drf_exceptions.Throttled: ("rate_limited", ""),
}


def _param_path(prefix: str, key: object) -> str:
    """Name a nested field as API.md's `param` does: `events[3].units`, `works[0]`."""
    if key == "non_field_errors":
        return prefix
    if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def _flatten_validation_errors(detail: Any, prefix: str = "") -> list[dict[str, Any]]:
    """Turn DRF's nested validation detail into a flat list of {param, code, message}."""
    if isinstance(detail, dict):
        flattened = []
        for key, value in detail.items():
            flattened.extend(_flatten_validation_errors(value, _param_path(prefix, key)))
        return flattened
    if isinstance(detail, list):
        if all(isinstance(item, drf_exceptions.ErrorDetail) for item in detail):
            return [
                {"param": prefix or None, "code": item.code, "message": str(item)}
                for item in detail
            ]
        flattened = []
        for index, item in enumerate(detail):
            flattened.extend(_flatten_validation_errors(item, f"{prefix}[{index}]"))
        return flattened
    return [
        {
            "param": prefix or None,
            "code": getattr(detail, "code", "invalid"),
            "message": str(detail),
        }
    ]


def _validation_error_response(exc: drf_exceptions.ValidationError) -> Response:
    details = _flatten_validation_errors(exc.detail)
    first = details[0] if details else {"param": None, "code": "invalid", "message": "Invalid."}
    code = "parameter_missing" if first["code"] == "required" else "parameter_invalid"
    message = f"{first['param']}: {first['message']}" if first["param"] else first["message"]
    body = error_body(
        error_type=ErrorType.INVALID_REQUEST,
        code=code,
        message=message,
        param=first["param"],
        details=details,
    )
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _api_exception_response(exc: drf_exceptions.APIException) -> Response:
    code, message = _DRF_CODE_OVERRIDES.get(type(exc), ("", ""))
    if not code:
        default_code = getattr(exc, "default_code", "error")
        detail_code = getattr(exc.detail, "code", None)
        code = detail_code if isinstance(detail_code, str) else default_code
    if not message:
        message = (
            str(exc.detail) if not isinstance(exc.detail, (dict, list)) else exc.default_detail
        )
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    body = error_body(
        error_type=error_type_for_status(exc.status_code), code=code, message=str(message)
    )
    return Response(body, status=exc.status_code, headers=headers)


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """Render any exception raised inside a DRF view as the error body."""
    set_rollback()
    if isinstance(exc, DomainError):
        body = error_body(
            error_type=exc.error_type,
            code=exc.code,
            message=exc.message,
            param=exc.param,
            details=exc.details,
        )
        return Response(body, status=exc.http_status)
    if isinstance(exc, Http404):
        return Response(
            error_body(error_type=ErrorType.NOT_FOUND, code="not_found", message="Not found."),
            status=404,
        )
    if isinstance(exc, PermissionDenied):
        exc = drf_exceptions.PermissionDenied()
    if isinstance(exc, RequestDataTooBig):
        return Response(_too_large_body(), status=413)
    if isinstance(exc, drf_exceptions.ValidationError):
        return _validation_error_response(exc)
    if isinstance(exc, drf_exceptions.APIException):
        return _api_exception_response(exc)
    view = context.get("view")
    logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view")
    return Response(_server_error_body(), status=500)


def _server_error_body() -> dict[str, Any]:
    return error_body(
        error_type=ErrorType.API,
        code="internal_error",
        message="Something went wrong on our side. It has been logged.",
    )


def _too_large_body() -> dict[str, Any]:
    return error_body(
        error_type=ErrorType.INVALID_REQUEST,
        code="request_too_large",
        message="The request body is larger than this API accepts.",
    )


def _wants_html(request: HttpRequest) -> bool:
    # The admin portal is for people; everything else speaks JSON.
    return request.path.startswith("/admin/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return django_defaults.page_not_found(request, exception)
    body = error_body(
        error_type=ErrorType.NOT_FOUND,
        code="not_found",
        message=f"No route or object at {request.path}.",
    )
    return JsonResponse(body, status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_html(request):
        return django_defaults.server_error(request)
    return JsonResponse(_server_error_body(), status=500)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        return JsonResponse(_too_large_body(), status=413)
    if _wants_html(request):
        return django_defaults.bad_request(request, exception)
    body = error_body(
        error_type=ErrorType.INVALID_REQUEST, code="bad_request", message="Malformed request."
    )
    return JsonResponse(body, status=400)


def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _wants_html(request):
        return django_defaults.permission_denied(request, exception)
    body = error_body(
        error_type=ErrorType.PERMISSION,
        code="permission_denied",
        message="You are not allowed to do this.",
    )
    return JsonResponse(body, status=403)


def json_error_response(status_code: int, code: str, message: str, **extra: Any) -> JsonResponse:
    """Build an error response outside DRF (middleware), in the same shape."""
    body = error_body(error_type=error_type_for_status(status_code), code=code, message=message)
    response = JsonResponse(body, status=status_code)
    for header, value in extra.items():
        response[header] = value
    return response
