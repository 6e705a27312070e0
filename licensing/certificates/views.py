from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from config.api.throttling import rate_limited
from licensing.certificates.keys import public_jwks


@require_GET
@rate_limited("public")
@cache_control(public=True, max_age=300)
def accord_keys(request: HttpRequest) -> JsonResponse:
    """The JWKS that verifies every certificate Accord ever issued."""
    response = JsonResponse(public_jwks())
    response["Access-Control-Allow-Origin"] = "*"
    return response
