"""Creator endpoints (`/api/v1/me/…`): a creator's own works, offers and collections.

Every view here needs a creator's key (`IsCreator`) and reads through the creator-
scoped selectors, so another creator's object is a 404 exactly like a missing one.
Views parse, call one service, render.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from config.errors import ApiErrorCode
from licensing.api.operation_docs import operation_docs
from licensing.api.params import VERSION_PARAMETER, version_parameter
from licensing.api.permissions import IsCreator
from licensing.api.serializers import (
    CollectionCreateInput,
    CollectionSerializer,
    CollectionUpdateInput,
    MyWorkSerializer,
    OfferCreateInput,
    OfferSerializer,
    OfferUpdateInput,
    WorkCreateInput,
    WorkUpdateInput,
    offer_render,
)
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Collection, Creator, Offer, OfferVersion, Work
from licensing.selectors.collections import creator_collection_get, creator_collections_list
from licensing.selectors.creators import creators_by_public_ids
from licensing.selectors.offers import (
    creator_offer_get,
    creator_offers_list,
    offer_version_get,
    offer_versions_list,
)
from licensing.selectors.works import (
    creator_work_get,
    creator_works_by_public_ids,
    creator_works_list,
)
from licensing.services.collections import collection_create, collection_update
from licensing.services.offers import OFFER_TERM_FIELDS, OfferTerms, offer_create, offer_update
from licensing.services.works import ShareSpec, work_create, work_update


def _creator(request: Request) -> Creator:
    return request.user.creator


def _shares(creator_inputs: list[dict[str, Any]]) -> list[ShareSpec]:
    """Turn `[{"creator": "cre_…", "basis_points": n}]` into share specs."""
    creators = creators_by_public_ids(public_ids=[share["creator"] for share in creator_inputs])
    specs = []
    for index, share in enumerate(creator_inputs):
        creator = creators.get(share["creator"])
        if creator is None:
            raise LicensingError(
                LicensingErrorCode.CREATOR_NOT_FOUND,
                f"No creator {share['creator']!r}.",
                param=f"shares[{index}].creator",
                http_status=422,
            )
        specs.append(ShareSpec(creator=creator, basis_points=share["basis_points"]))
    return specs


_FORBIDDEN = {403: [LicensingErrorCode.CREATOR_KEY_REQUIRED]}
LIST_ERRORS = error_responses(
    400, 401, 403, 429, codes={400: [ApiErrorCode.INVALID_CURSOR], **_FORBIDDEN}
)
WORK_READ_ERRORS = error_responses(
    401, 403, 404, 429, codes={404: [LicensingErrorCode.WORK_NOT_FOUND], **_FORBIDDEN}
)
WORK_WRITE_ERRORS = error_responses(
    400,
    401,
    403,
    404,
    409,
    422,
    429,
    codes={
        **_FORBIDDEN,
        404: [LicensingErrorCode.WORK_NOT_FOUND],
        409: [LicensingErrorCode.IDENTIFIER_TAKEN],
        422: [
            LicensingErrorCode.SHARES_TOTAL_INVALID,
            LicensingErrorCode.SHARES_DUPLICATE_CREATOR,
            LicensingErrorCode.SHARES_EMPTY,
            LicensingErrorCode.CREATOR_NOT_FOUND,
            LicensingErrorCode.IDENTIFIER_INVALID,
            LicensingErrorCode.PARAMETER_INVALID,
        ],
    },
)
OFFER_READ_ERRORS = error_responses(
    400,
    401,
    403,
    404,
    429,
    codes={
        **_FORBIDDEN,
        404: [LicensingErrorCode.OFFER_NOT_FOUND, LicensingErrorCode.OFFER_VERSION_NOT_FOUND],
    },
)
OFFER_WRITE_ERRORS = error_responses(
    400,
    401,
    403,
    404,
    409,
    422,
    429,
    codes={
        **_FORBIDDEN,
        404: [
            LicensingErrorCode.WORK_NOT_FOUND,
            LicensingErrorCode.COLLECTION_NOT_FOUND,
            LicensingErrorCode.OFFER_NOT_FOUND,
        ],
        422: [
            LicensingErrorCode.OFFER_TERMS_INVALID,
            LicensingErrorCode.OFFER_TARGET_INVALID,
            LicensingErrorCode.OFFER_STATUS_INVALID,
            LicensingErrorCode.CURRENCY_UNSUPPORTED,
            LicensingErrorCode.WORK_RESERVED,
        ],
    },
)
COLLECTION_READ_ERRORS = error_responses(
    401, 403, 404, 429, codes={**_FORBIDDEN, 404: [LicensingErrorCode.COLLECTION_NOT_FOUND]}
)
COLLECTION_WRITE_ERRORS = error_responses(
    400,
    401,
    403,
    404,
    409,
    422,
    429,
    codes={
        **_FORBIDDEN,
        404: [LicensingErrorCode.WORK_NOT_FOUND, LicensingErrorCode.COLLECTION_NOT_FOUND],
        422: [LicensingErrorCode.WORK_RESERVED, LicensingErrorCode.PARAMETER_INVALID],
    },
)


class _CreatorApi(GenericAPIView):
    permission_classes = [IsCreator]
    cursor_ordering = ("-id",)


class MyWorksApi(_CreatorApi):
    queryset = Work.objects.none()  # for the schema; the rows come from the selectors
    serializer_class = WorkCreateInput  # what OPTIONS describes

    @extend_schema(
        **operation_docs("me_works_list"),
        responses={200: MyWorkSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        works = self.paginate_queryset(creator_works_list(creator=_creator(request)))
        return self.get_paginated_response([MyWorkSerializer(work).data for work in works])

    @extend_schema(
        **operation_docs("me_works_create"),
        request=WorkCreateInput,
        responses={201: MyWorkSerializer, **WORK_WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        payload = WorkCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        work = work_create(
            creator=_creator(request),
            title=data["title"],
            kind=data["kind"],
            identifiers=data.get("identifiers"),
            reserved=data["reserved"],
            shares=_shares(data["shares"]) if "shares" in data else None,
        )
        work = creator_work_get(creator=_creator(request), public_id=work.public_id)
        return Response(MyWorkSerializer(work).data, status=status.HTTP_201_CREATED)


class MyWorkApi(_CreatorApi):
    @extend_schema(
        **operation_docs("me_works_retrieve"),
        responses={200: MyWorkSerializer, **WORK_READ_ERRORS},
    )
    def get(self, request: Request, work_id: str) -> Response:
        work = creator_work_get(creator=_creator(request), public_id=work_id)
        return Response(MyWorkSerializer(work).data)

    @extend_schema(
        **operation_docs("me_works_partial_update"),
        request=WorkUpdateInput,
        responses={200: MyWorkSerializer, **WORK_WRITE_ERRORS},
    )
    def patch(self, request: Request, work_id: str) -> Response:
        work = creator_work_get(creator=_creator(request), public_id=work_id)
        payload = WorkUpdateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        changes: dict[str, Any] = {
            name: data[name]
            for name in ("title", "kind", "identifiers", "reserved")
            if name in data
        }
        if "shares" in data:
            changes["shares"] = _shares(data["shares"])
        work_update(work=work, **changes)
        work = creator_work_get(creator=_creator(request), public_id=work_id)
        return Response(MyWorkSerializer(work).data)


class MyOffersApi(_CreatorApi):
    queryset = Offer.objects.none()
    serializer_class = OfferCreateInput  # what OPTIONS describes

    @extend_schema(
        **operation_docs("me_offers_list"),
        responses={200: OfferSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        offers = self.paginate_queryset(creator_offers_list(creator=_creator(request)))
        return self.get_paginated_response([offer_render(offer) for offer in offers])

    @extend_schema(
        **operation_docs("me_offers_create"),
        request=OfferCreateInput,
        responses={201: OfferSerializer, **OFFER_WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        creator = _creator(request)
        payload = OfferCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        work = collection = None
        if data.get("work"):
            work = creator_work_get(creator=creator, public_id=data["work"])
        if data.get("collection"):
            collection = creator_collection_get(creator=creator, public_id=data["collection"])
        offer = offer_create(
            creator=creator,
            work=work,
            collection=collection,
            use=data["use"],
            status=data["status"],
            terms=OfferTerms(
                **{name: data[name] for name in OFFER_TERM_FIELDS if data.get(name) is not None}
            ),
        )
        offer = creator_offer_get(creator=creator, public_id=offer.public_id)
        return Response(offer_render(offer), status=status.HTTP_201_CREATED)


class MyOfferApi(_CreatorApi):
    @extend_schema(
        **operation_docs("me_offers_retrieve"),
        parameters=[VERSION_PARAMETER],
        responses={200: OfferSerializer, **OFFER_READ_ERRORS},
    )
    def get(self, request: Request, offer_id: str) -> Response:
        offer = creator_offer_get(creator=_creator(request), public_id=offer_id)
        version = offer_version_get(offer=offer, version=version_parameter(request))
        return Response(offer_render(offer, version))

    @extend_schema(
        **operation_docs("me_offers_partial_update"),
        request=OfferUpdateInput,
        responses={200: OfferSerializer, **OFFER_WRITE_ERRORS},
    )
    def patch(self, request: Request, offer_id: str) -> Response:
        creator = _creator(request)
        offer = creator_offer_get(creator=creator, public_id=offer_id)
        payload = OfferUpdateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        new_status = data.pop("status", None)
        offer_update(offer=offer, terms=data, status=new_status)
        offer = creator_offer_get(creator=creator, public_id=offer_id)
        return Response(offer_render(offer))


class MyOfferVersionsApi(_CreatorApi):
    """Every version of one of the creator's offers, newest first."""

    queryset = OfferVersion.objects.none()

    @extend_schema(
        **operation_docs("me_offers_versions_list"),
        responses={200: OfferSerializer(many=True), **OFFER_READ_ERRORS},
    )
    def get(self, request: Request, offer_id: str) -> Response:
        offer = creator_offer_get(creator=_creator(request), public_id=offer_id)
        versions = self.paginate_queryset(offer_versions_list(offer=offer))
        return self.get_paginated_response([offer_render(offer, version) for version in versions])


class MyCollectionsApi(_CreatorApi):
    queryset = Collection.objects.none()
    serializer_class = CollectionCreateInput  # what OPTIONS describes

    @extend_schema(
        **operation_docs("me_collections_list"),
        responses={200: CollectionSerializer(many=True), **LIST_ERRORS},
    )
    def get(self, request: Request) -> Response:
        collections = self.paginate_queryset(creator_collections_list(creator=_creator(request)))
        return self.get_paginated_response(
            [CollectionSerializer(collection).data for collection in collections]
        )

    @extend_schema(
        **operation_docs("me_collections_create"),
        request=CollectionCreateInput,
        responses={201: CollectionSerializer, **COLLECTION_WRITE_ERRORS},
    )
    def post(self, request: Request) -> Response:
        creator = _creator(request)
        payload = CollectionCreateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        works = creator_works_by_public_ids(creator=creator, public_ids=data.get("works", []))
        collection = collection_create(creator=creator, title=data["title"], works=works)
        collection = creator_collection_get(creator=creator, public_id=collection.public_id)
        return Response(CollectionSerializer(collection).data, status=status.HTTP_201_CREATED)


class MyCollectionApi(_CreatorApi):
    @extend_schema(
        **operation_docs("me_collections_retrieve"),
        responses={200: CollectionSerializer, **COLLECTION_READ_ERRORS},
    )
    def get(self, request: Request, collection_id: str) -> Response:
        collection = creator_collection_get(creator=_creator(request), public_id=collection_id)
        return Response(CollectionSerializer(collection).data)

    @extend_schema(
        **operation_docs("me_collections_partial_update"),
        request=CollectionUpdateInput,
        responses={200: CollectionSerializer, **COLLECTION_WRITE_ERRORS},
    )
    def patch(self, request: Request, collection_id: str) -> Response:
        creator = _creator(request)
        collection = creator_collection_get(creator=creator, public_id=collection_id)
        payload = CollectionUpdateInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data = payload.validated_data
        changes: dict[str, Any] = {}
        if "title" in data:
            changes["title"] = data["title"]
        if "works" in data:
            changes["works"] = creator_works_by_public_ids(
                creator=creator, public_ids=data["works"]
            )
        collection_update(collection=collection, **changes)
        collection = creator_collection_get(creator=creator, public_id=collection_id)
        return Response(CollectionSerializer(collection).data)
