"""The catalogue as licensees browse it: works with their active offers, offers, collections.

Any valid API key may read it. A reserved work is listed (so a crawler can see it is
reserved) but never with an offer, and never when filtering by `use`.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from config.errors import ApiErrorCode
from licensing.api.operation_docs import operation_docs
from licensing.api.params import VERSION_PARAMETER, choice_parameter, version_parameter
from licensing.api.serializers import (
    CollectionSerializer,
    OfferSerializer,
    WorkSerializer,
    offer_render,
)
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Use, Work
from licensing.selectors.collections import collection_get
from licensing.selectors.offers import offer_get, offer_version_get
from licensing.selectors.works import work_get, works_catalogue_list

QUERY_LENGTH_MAX = 200
LIST_ERRORS = error_responses(400, 401, 429, codes={400: [ApiErrorCode.INVALID_CURSOR]})


def _read_errors(*codes: LicensingErrorCode) -> dict:
    return error_responses(400, 401, 404, 429, codes={404: list(codes)})


class WorksApi(GenericAPIView):
    queryset = Work.objects.none()  # for the schema; the rows come from the selectors
    cursor_ordering = ("-id",)

    @extend_schema(
        **operation_docs("works_list"),
        parameters=[
            OpenApiParameter("use", OpenApiTypes.STR, enum=Use.values),
            OpenApiParameter("kind", OpenApiTypes.STR, enum=Work.Kind.values),
            OpenApiParameter("creator", OpenApiTypes.STR, description="A creator id (cre_…)."),
            OpenApiParameter("q", OpenApiTypes.STR, description="Words in the title."),
        ],
        responses={200: WorkSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        query = request.query_params.get("q") or None
        if query is not None and len(query) > QUERY_LENGTH_MAX:
            raise LicensingError(
                LicensingErrorCode.PARAMETER_INVALID,
                f"q is at most {QUERY_LENGTH_MAX} characters.",
                param="q",
                http_status=400,
            )
        works = works_catalogue_list(
            use=choice_parameter(request, "use", Use.values),
            kind=choice_parameter(request, "kind", Work.Kind.values),
            creator_public_id=request.query_params.get("creator") or None,
            query=query,
        )
        page = self.paginate_queryset(works)
        return self.get_paginated_response([WorkSerializer(work).data for work in page])


class WorkApi(GenericAPIView):
    @extend_schema(
        **operation_docs("works_retrieve"),
        responses={200: WorkSerializer, **_read_errors(LicensingErrorCode.WORK_NOT_FOUND)},
    )
    def get(self, request: Request, work_id: str) -> Response:
        return Response(WorkSerializer(work_get(public_id=work_id)).data)


class OfferApi(GenericAPIView):
    @extend_schema(
        **operation_docs("offers_retrieve"),
        parameters=[VERSION_PARAMETER],
        responses={
            200: OfferSerializer,
            **_read_errors(
                LicensingErrorCode.OFFER_NOT_FOUND, LicensingErrorCode.OFFER_VERSION_NOT_FOUND
            ),
        },
    )
    def get(self, request: Request, offer_id: str) -> Response:
        reader = getattr(request.user, "creator", None)  # a creator key reads its own drafts
        offer = offer_get(public_id=offer_id, reader=reader)
        version = offer_version_get(offer=offer, version=version_parameter(request))
        return Response(offer_render(offer, version))


class CollectionApi(GenericAPIView):
    @extend_schema(
        **operation_docs("collections_retrieve"),
        responses={
            200: CollectionSerializer,
            **_read_errors(LicensingErrorCode.COLLECTION_NOT_FOUND),
        },
    )
    def get(self, request: Request, collection_id: str) -> Response:
        collection = collection_get(public_id=collection_id)
        return Response(CollectionSerializer(collection).data)
