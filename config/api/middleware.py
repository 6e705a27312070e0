"""Refuse oversized request bodies before anything reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from config.api.exceptions import json_error_response


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
