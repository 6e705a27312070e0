"""Content-Security-Policy for every HTML page Accord serves.

Django 5.2 has no CSP of its own, and a fixed header needs no library: the policy is
one setting, `ACCORD_CONTENT_SECURITY_POLICY`, with a per-path override for a page
that cannot follow it (`ACCORD_CONTENT_SECURITY_POLICY_BY_PATH`, longest prefix
wins). JSON answers need none: a browser runs nothing from them. A response that set
its own policy keeps it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

HEADER = "Content-Security-Policy"


def policy_for(path: str) -> str:
    """The policy of the page at `path` ('' for none)."""
    overrides = getattr(settings, "ACCORD_CONTENT_SECURITY_POLICY_BY_PATH", {})
    matching = [prefix for prefix in overrides if path.startswith(prefix)]
    if matching:
        return overrides[max(matching, key=len)]
    return getattr(settings, "ACCORD_CONTENT_SECURITY_POLICY", "")


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if HEADER in response or not response.get("Content-Type", "").startswith("text/html"):
            return response
        policy = policy_for(request.path_info)
        if policy:
            response[HEADER] = policy
        return response
