"""Public endpoints: no key, cached, rate limited per client address.

- `GET /api/v1/registry?sha256=…` (or isrc, isbn, doi, url): licensable, reserved or
  unknown, with the active offers.
- `GET /works/{id}`: the work's public page, carrying the `Content-Usage` header
  (IETF AI preferences), TDMRep's headers and a `Link` to its RSL document.
- `GET /works/{id}/license.xml`: the work's terms in RSL 1.0.
- `GET /.well-known/tdmrep.json`: TDMRep rules; with `?origin=https://host` the
  rules for the works whose URL is on that origin (to serve there), without it the
  rules for Accord's own work pages.

`views_signals.py` has the rest (collections' RSL documents, the site's, `robots.txt`,
TDMRep policies). All of them render from `terms.work_terms`, so they cannot disagree. Answers are
cached (`public_cache`) and the cache empties whenever the catalogue changes. The
rate limit runs before the cache, so a cached answer still counts.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import error_responses
from config.api.throttling import ClientAddressRateThrottle
from ledger.display import money_from_minor
from licensing.api.operation_docs import operation_docs
from licensing.api.serializers import RegistryEntrySerializer, WorkSerializer, offer_render
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.identifiers import IDENTIFIER_KINDS, identifier_normalize
from licensing.models import OfferVersion
from licensing.public_cache import public_cache_seconds, public_cached
from licensing.rsl import RSL_MEDIA_TYPE, rsl_document
from licensing.selectors.works import work_find_by_identifier, work_get
from licensing.tdmrep import tdmrep_rules_for_origin
from licensing.terms import STATUS_UNKNOWN, WorkTerms, work_terms

TDMREP_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["location", "tdm-reservation"],
        "properties": {
            "location": {"type": "string"},
            "tdm-reservation": {"type": "integer", "enum": [0, 1]},
            "tdm-policy": {"type": "string", "format": "uri"},
        },
    },
}


def public_base_url(request: Request) -> str:
    """Our public origin: `ACCORD_PUBLIC_BASE_URL` when set, else the request's own."""
    configured = getattr(settings, "ACCORD_PUBLIC_BASE_URL", "")
    return (configured or request.build_absolute_uri("/")).rstrip("/")


class AnyAcceptNegotiation(BaseContentNegotiation):
    """Answer in the view's one format whatever `Accept` says; crawlers send anything."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list, format_suffix: Any = None) -> Any:
        return renderers[0], renderers[0].media_type


class PublicApi(APIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [ClientAddressRateThrottle]
    throttle_scope = "public"
    renderer_classes = [JSONRenderer]
    content_negotiation_class = AnyAcceptNegotiation

    def cached_response(self, response: HttpResponse) -> HttpResponse:
        response["Cache-Control"] = f"public, max-age={public_cache_seconds()}"
        return response


def work_terms_or_none(public_id: str, base_url: str) -> WorkTerms | None:
    try:
        work = work_get(public_id=public_id)
    except LicensingError:
        return None
    return work_terms(work, base_url=base_url)


def _work_not_found() -> LicensingError:
    return LicensingError(LicensingErrorCode.WORK_NOT_FOUND, "No such work.", param="id")


def _registry_query(request: Request) -> tuple[str, str]:
    given = [kind for kind in IDENTIFIER_KINDS if request.query_params.get(kind)]
    if len(given) != 1:
        raise LicensingError(
            LicensingErrorCode.REGISTRY_QUERY_INVALID,
            "Ask about exactly one identifier: " + ", ".join(IDENTIFIER_KINDS) + ".",
            param=given[1] if len(given) > 1 else None,
        )
    kind = given[0]
    try:
        return kind, identifier_normalize(kind, request.query_params[kind])
    except Exception as error:
        messages = getattr(error, "messages", [str(error)])
        raise LicensingError(
            LicensingErrorCode.REGISTRY_QUERY_INVALID, messages[0], param=kind
        ) from None


class RegistryApi(PublicApi):
    @extend_schema(
        **operation_docs("registry_lookup"),
        parameters=[OpenApiParameter(kind, OpenApiTypes.STR) for kind in IDENTIFIER_KINDS],
        responses={
            200: RegistryEntrySerializer,
            **error_responses(400, 429, codes={400: [LicensingErrorCode.REGISTRY_QUERY_INVALID]}),
        },
        auth=[],
    )
    def get(self, request: Request) -> Response:
        kind, value = _registry_query(request)
        base_url = public_base_url(request)

        def build() -> dict[str, Any]:
            work = work_find_by_identifier(kind=kind, value=value)
            if work is None:
                return {
                    "object": "registry_entry",
                    "status": STATUS_UNKNOWN,
                    "work": None,
                    "offers": [],
                    "license_url": None,
                }
            terms = work_terms(work, base_url=base_url)
            return {
                "object": "registry_entry",
                "status": terms.status,
                "work": WorkSerializer(work).data,
                "offers": [offer_render(term.offer) for term in terms.licenses],
                "license_url": terms.license_url,
            }

        body = public_cached(("registry", base_url, kind, value), build)
        response = Response(body)
        response["Cache-Control"] = f"public, max-age={public_cache_seconds()}"
        return response


class WorkLicenseXmlApi(PublicApi):
    @extend_schema(
        **operation_docs("work_license_xml"),
        responses={
            (200, RSL_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(404, 429, codes={404: [LicensingErrorCode.WORK_NOT_FOUND]}),
        },
        auth=[],
    )
    def get(self, request: Request, work_id: str) -> HttpResponse:
        base_url = public_base_url(request)

        def build() -> bytes | bool:
            terms = work_terms_or_none(work_id, base_url)
            return rsl_document(terms) if terms is not None else False

        document = public_cached(("license.xml", base_url, work_id), build)
        if document is False:
            raise _work_not_found()
        return self.cached_response(
            HttpResponse(document, content_type=f"{RSL_MEDIA_TYPE}; charset=utf-8")
        )


def _price_label(version: OfferVersion) -> str:
    if version.pricing == OfferVersion.Pricing.PER_UNIT:
        price = money_from_minor(version.unit_amount_decimal, version.currency)
        return f"{price} per {version.unit}"
    price = money_from_minor(version.amount, version.currency)
    return f"{price} for {version.term_days} days"


class WorkPageApi(PublicApi):
    """The work's public page (HTML), with every machine-readable signal in its headers."""

    @extend_schema(
        **operation_docs("work_page"),
        responses={
            (200, "text/html"): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(404, 429, codes={404: [LicensingErrorCode.WORK_NOT_FOUND]}),
        },
        auth=[],
    )
    def get(self, request: Request, work_id: str) -> HttpResponse:
        base_url = public_base_url(request)

        def build() -> dict[str, Any] | bool:
            terms = work_terms_or_none(work_id, base_url)
            if terms is None:
                return False
            html = render_to_string(
                "licensing/work_page.html",
                {
                    "terms": terms,
                    "work": terms.work,
                    "licenses": [
                        {"term": term, "price": _price_label(term.version)}
                        for term in terms.licenses
                    ],
                },
            )
            return {"html": html, "headers": work_page_headers(terms)}

        page = public_cached(("work-page", base_url, work_id), build)
        if page is False:
            raise _work_not_found()
        response = HttpResponse(page["html"], content_type="text/html; charset=utf-8")
        for name, value in page["headers"].items():
            response[name] = value
        return self.cached_response(response)


def work_page_headers(terms: WorkTerms) -> dict[str, str]:
    """The HTTP headers by which crawlers read a work page's terms."""
    headers = {
        "Content-Usage": terms.content_usage,
        "tdm-reservation": str(terms.tdm_reservation),
        "Link": f'<{terms.license_url}>; rel="license"; type="{RSL_MEDIA_TYPE}"',
    }
    if terms.tdm_policy:
        headers["tdm-policy"] = terms.tdm_policy
    return headers


def _origin_invalid() -> LicensingError:
    return LicensingError(
        LicensingErrorCode.PARAMETER_INVALID,
        "origin is a scheme and host, such as https://example.com.",
        param="origin",
        http_status=400,
    )


def _origin_parameter(request: Request) -> str | None:
    raw = request.query_params.get("origin")
    if raw is None:
        return None
    try:
        # urlsplit raises on a malformed host, such as an unclosed IPv6 bracket.
        parts = urlsplit(raw.strip())
        parts.port  # noqa: B018 - reading the port validates it
    except ValueError:
        raise _origin_invalid() from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.netloc
        or parts.path not in ("", "/")
        or not parts.netloc.isprintable()
        or " " in parts.netloc
    ):
        raise _origin_invalid()
    return f"{parts.scheme}://{parts.netloc.lower()}"


class TdmRepApi(PublicApi):
    @extend_schema(
        **operation_docs("tdmrep_json"),
        parameters=[
            OpenApiParameter(
                "origin",
                OpenApiTypes.STR,
                description="The rules for the works whose URL is on this origin.",
            )
        ],
        responses={
            (200, "application/json"): OpenApiResponse(TDMREP_SCHEMA),
            **error_responses(400, 429),
        },
        auth=[],
    )
    def get(self, request: Request) -> HttpResponse:
        base_url = public_base_url(request)
        origin = _origin_parameter(request)
        if origin is None:
            # Accord's own pages: every work is reserved from unlicensed mining; each page
            # names its own policy in its `tdm-policy` header.
            rules = public_cached(
                ("tdmrep", base_url), lambda: [{"location": "/works/*", "tdm-reservation": 1}]
            )
        else:
            rules = public_cached(
                ("tdmrep", base_url, origin),
                lambda: tdmrep_rules_for_origin(origin, base_url=base_url),
            )
        response = Response(rules)
        response["Cache-Control"] = f"public, max-age={public_cache_seconds()}"
        return response
