"""`Authorization: Bearer <api key>` for every API endpoint.

The key model belongs to the catalogue (`licensing`); this module only parses the
header and asks the resolver named by `ACCORD_API_KEY_RESOLVER` who the key is. The
resolver takes the raw key and returns `(user, principal)` or `None`. A refused key
counts against its address's `invalid_key` rate before its 401 (then 429s follow).
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions
from rest_framework.request import Request

from config.api.throttling import invalid_key_count


class InvalidApiKey(exceptions.AuthenticationFailed):
    default_detail = "The API key is not valid, or has been revoked."
    default_code = "invalid_api_key"


class BearerKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        raw_key = raw_key.strip()
        if scheme.lower() != "bearer" or not raw_key or " " in raw_key:
            invalid_key_count(request)
            raise InvalidApiKey("Use 'Authorization: Bearer <api key>'.")
        resolved = import_string(settings.ACCORD_API_KEY_RESOLVER)(raw_key)
        if resolved is None:
            invalid_key_count(request)
            raise InvalidApiKey()
        return resolved

    def authenticate_header(self, request: Request) -> str:
        # Makes DRF answer 401 (not 403) when no key was sent.
        return self.keyword


class BearerKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    """Tell drf-spectacular that these endpoints take `Authorization: Bearer <key>`."""

    target_class = "config.api.authentication.BearerKeyAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {"type": "http", "scheme": "bearer", "description": "An Accord API key."}
