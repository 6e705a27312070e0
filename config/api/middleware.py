"""Refuse requests no view should see: oversized bodies, and NUL characters.

Both run before anything reads the request, for every route (the API, the public
pages, the admin), so no view has to remember them.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults as django_defaults

from config.api.exceptions import json_error_response
from config.errors import ErrorType, error_body

NUL = "\x00"


class RequestBodyLimitMiddleware:
    """Answer 413 when the declared body is larger than `API_MAX_BODY_BYTES`.

    Django only checks the limit when something reads `request.body`; checking the
    header up front keeps a huge upload from being read at all.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared_length = request.META.get("CONTENT_LENGTH") or "0"
        try:
            body_bytes = int(declared_length)
        except ValueError:
            return json_error_response(400, "bad_request", "Content-Length is not a number.")
        if body_bytes > settings.API_MAX_BODY_BYTES:
            return json_error_response(
                413,
                "request_too_large",
                f"The request body is {body_bytes} bytes; at most "
                f"{settings.API_MAX_BODY_BYTES} are accepted.",
            )
        return self.get_response(request)


class NulCharacterGuardMiddleware:
    """Answer 400 to a NUL character in the path, a query parameter or a header.

    PostgreSQL text cannot hold NUL, so a `%00` that reached a query (`?q=%00`,
    `/works/%00`, `?origin=http://%00`) was a 500 from the database driver; no
    identifier, search term or header value Accord reads can contain one. The
    query string is checked raw first (`%00` or a literal NUL), so the common
    request pays one substring search.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if NUL in request.path_info:
            return _nul_refused(request, "path_invalid", "The path", param=None)
        query_string = request.META.get("QUERY_STRING", "")
        if "%00" in query_string or NUL in query_string:
            for name, values in request.GET.lists():
                if NUL in name or any(NUL in value for value in values):
                    return _nul_refused(
                        request, "parameter_invalid", f"The query parameter {name!r}", param=name
                    )
        for key, value in request.META.items():
            if key.startswith("HTTP_") and isinstance(value, str) and NUL in value:
                header = key[5:].replace("_", "-").title()
                return _nul_refused(request, "header_invalid", f"The {header} header", param=header)
        return self.get_response(request)


def _nul_refused(
    request: HttpRequest, code: str, subject: str, *, param: str | None
) -> HttpResponse:
    if request.path_info.startswith("/admin/"):
        # The portal is for people: its own 400 page, as for any other bad request.
        return django_defaults.bad_request(request, None)
    body = error_body(
        error_type=ErrorType.INVALID_REQUEST,
        code=code,
        message=f"{subject} contains a NUL character, which no value here may contain.",
        param=param,
    )
    return JsonResponse(body, status=400)
