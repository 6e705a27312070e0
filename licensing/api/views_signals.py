"""More public signals: collections' and the site's RSL documents, robots.txt, TDM policies.

- `GET /collections/{id}/license.xml`: the collection's works in RSL 1.0, each as in
  its own document.
- `GET /license.xml?page=N`: one page of the site's RSL document, named by a
  `License:` line of `robots.txt`.
- `GET /robots.txt`: those `License:` lines and the `Content-Usage` rule.
- `GET /works/{id}/tdm-policy.jsonld`: a licensable work's TDMRep policy (ODRL),
  `application/ld+json`.

The same pattern as `views_public.py`: no key, rate limited per address before the
cache, answers cached under the catalogue generation (`public_cache`), rendered from
`terms.work_terms`.
"""

from __future__ import annotations

import json

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.request import Request

from config.api.schema import error_responses
from licensing.api.operation_docs import operation_docs
from licensing.api.views_public import PublicApi, public_base_url, work_terms_or_none
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Collection, Work
from licensing.public_cache import public_cached
from licensing.robots import SITE_LICENSE_PAGE_WORKS, robots_txt, site_license_pages
from licensing.rsl import RSL_MEDIA_TYPE, rsl_collection_document, rsl_site_document
from licensing.selectors.works import works_with_offers
from licensing.tdmrep import TDMREP_POLICY_MEDIA_TYPE, tdm_policy_document
from licensing.terms import work_terms

COLLECTION_DOCUMENT_WORKS_MAX = 10_000


def _rsl_response(view: PublicApi, document: bytes) -> HttpResponse:
    return view.cached_response(
        HttpResponse(document, content_type=f"{RSL_MEDIA_TYPE}; charset=utf-8")
    )


def _collection_document(public_id: str, base_url: str) -> bytes | bool:
    collection = Collection.objects.filter(public_id=public_id).first()
    if collection is None:
        return False
    works = works_with_offers(collection.works.order_by("id"))
    return rsl_collection_document(
        [work_terms(work, base_url=base_url) for work in works[:COLLECTION_DOCUMENT_WORKS_MAX]],
        empty_url=f"{base_url}/collections/{collection.public_id}",
    )


class CollectionLicenseXmlApi(PublicApi):
    @extend_schema(
        **operation_docs("collection_license_xml"),
        responses={
            (200, RSL_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(404, 429, codes={404: [LicensingErrorCode.COLLECTION_NOT_FOUND]}),
        },
        auth=[],
    )
    def get(self, request: Request, collection_id: str) -> HttpResponse:
        base_url = public_base_url(request)
        document = public_cached(
            ("collection-license.xml", base_url, collection_id),
            lambda: _collection_document(collection_id, base_url),
        )
        if document is False:
            raise LicensingError(
                LicensingErrorCode.COLLECTION_NOT_FOUND, "No such collection.", param="id"
            )
        return _rsl_response(self, document)


def _site_page(request: Request, *, pages: int) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= pages:
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID,
            f"page is a number from 1 to {pages}, as robots.txt names them.",
            param="page",
            http_status=400,
        )
    return int(raw)


def _site_document(page: int, base_url: str) -> bytes:
    start = (page - 1) * SITE_LICENSE_PAGE_WORKS
    works = works_with_offers(Work.objects.order_by("id"))[start : start + SITE_LICENSE_PAGE_WORKS]
    return rsl_site_document([work_terms(work, base_url=base_url) for work in works])


class SiteLicenseXmlApi(PublicApi):
    @extend_schema(
        **operation_docs("site_license_xml"),
        parameters=[OpenApiParameter("page", OpenApiTypes.INT, description="From robots.txt.")],
        responses={
            (200, RSL_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.STR),
            **error_responses(400, 429, codes={400: [LicensingErrorCode.PARAMETER_INVALID]}),
        },
        auth=[],
    )
    def get(self, request: Request) -> HttpResponse:
        base_url = public_base_url(request)
        page = _site_page(request, pages=public_cached(("site-pages",), site_license_pages))
        document = public_cached(
            ("site-license.xml", base_url, str(page)), lambda: _site_document(page, base_url)
        )
        return _rsl_response(self, document)


class RobotsTxtApi(PublicApi):
    @extend_schema(
        **operation_docs("robots_txt"),
        responses={(200, "text/plain"): OpenApiResponse(OpenApiTypes.STR), **error_responses(429)},
        auth=[],
    )
    def get(self, request: Request) -> HttpResponse:
        base_url = public_base_url(request)
        text = public_cached(
            ("robots.txt", base_url),
            lambda: robots_txt(base_url=base_url, license_pages=site_license_pages()),
        )
        return self.cached_response(HttpResponse(text, content_type="text/plain; charset=utf-8"))


class WorkTdmPolicyApi(PublicApi):
    @extend_schema(
        **operation_docs("work_tdm_policy"),
        responses={
            (200, TDMREP_POLICY_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.OBJECT),
            **error_responses(404, 429, codes={404: [LicensingErrorCode.WORK_NOT_FOUND]}),
        },
        auth=[],
    )
    def get(self, request: Request, work_id: str) -> HttpResponse:
        base_url = public_base_url(request)

        def build() -> str | bool:
            terms = work_terms_or_none(work_id, base_url)
            if terms is None or not terms.tdm_policy:
                return False
            return json.dumps(tdm_policy_document(terms), indent=2)

        policy = public_cached(("tdm-policy", base_url, work_id), build)
        if policy is False:
            raise LicensingError(
                LicensingErrorCode.WORK_NOT_FOUND,
                "No such work, or it is not licensable and so names no TDM policy.",
                param="id",
            )
        return self.cached_response(HttpResponse(policy, content_type=TDMREP_POLICY_MEDIA_TYPE))
