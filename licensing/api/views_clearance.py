"""The dataset-clearance endpoints (API.md "Dataset clearance"): thin, one service each.

The create body is read without a DRF serializer: a serializer validates each of a
hundred thousand list items as a field of its own, which costs more than matching
them; `clearance_create` checks every item and names each bad one by its index.
"""

from __future__ import annotations

from typing import Any

from django.http import StreamingHttpResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from licensing.api.operation_docs import operation_docs
from licensing.api.params import choice_parameter
from licensing.api.permissions import IsLicensee
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import Clearance, ClearanceItem, Use
from licensing.selectors import clearances as selectors
from licensing.services.clearance_purchases import ClearancePurchase, clearance_purchase
from licensing.services.clearances import ITEMS_MAX, clearance_create


def clearance_render(clearance: Clearance) -> dict[str, Any]:
    return {
        "id": clearance.public_id,
        "object": "clearance",
        "use": clearance.use,
        "status": clearance.status,
        "counts": {
            status: getattr(clearance, f"{status}_count") for status in ClearanceItem.Status.values
        },
        "quote": {
            "amount": clearance.quote_amount,
            "currency": clearance.currency,
            "works": clearance.quote_works,
            "offers": clearance.quote_offers,
        },
        "items": clearance.items_count,
        "manifest_sha256": clearance.manifest_sha256,
        "expires_at": clearance.expires_at.isoformat(),
        "purchased_at": clearance.purchased_at.isoformat() if clearance.purchased_at else None,
        "created_at": clearance.created_at.isoformat(),
    }


def item_render(item: ClearanceItem) -> dict[str, Any]:
    return {
        "object": "clearance_item",
        "identifier": item.identifier,
        "status": item.status,
        "reason": item.reason or None,
        "work": item.work.public_id if item.work else None,
        "offer": item.offer.public_id if item.offer else None,
        "amount": item.amount,
        "license": item.license.public_id if item.license else None,
    }


def purchase_render(bought: ClearancePurchase) -> dict[str, Any]:
    return {
        "object": "clearance_purchase",
        "clearance": bought.clearance.public_id,
        "licenses": bought.licenses,
        "amount": bought.amount,
        "currency": bought.clearance.currency,
    }


COUNTS = inline_serializer(
    "ClearanceCounts", {s: serializers.IntegerField() for s in ClearanceItem.Status.values}
)
QUOTE = inline_serializer(
    "ClearanceQuote",
    {
        "amount": serializers.IntegerField(
            help_text="Total due at purchase, in the currency's minor unit."
        ),
        "currency": serializers.CharField(),
        "works": serializers.IntegerField(),
        "offers": serializers.IntegerField(),
    },
)
CLEARANCE_SCHEMA = inline_serializer(
    "Clearance",
    {
        "id": serializers.CharField(),
        "object": serializers.CharField(help_text='Always "clearance".'),
        "use": serializers.ChoiceField(choices=Use.choices),
        "status": serializers.ChoiceField(choices=Clearance.Status.values),
        "counts": COUNTS,
        "quote": QUOTE,
        "items": serializers.IntegerField(help_text="Distinct identifiers."),
        "manifest_sha256": serializers.CharField(),
        "expires_at": serializers.DateTimeField(),
        "purchased_at": serializers.DateTimeField(allow_null=True),
        "created_at": serializers.DateTimeField(),
    },
)


class ClearanceCreateInput(serializers.Serializer):
    """The create body as documented (and shown by OPTIONS); the service checks it."""

    use = serializers.ChoiceField(choices=Use.choices)
    items = serializers.ListField(child=serializers.CharField(), min_length=1, max_length=ITEMS_MAX)


CREATE_SCHEMA = ClearanceCreateInput
ITEMS_SCHEMA = inline_serializer(
    "ClearanceItem",
    many=True,
    fields={
        "object": serializers.CharField(),
        "identifier": serializers.CharField(),
        "status": serializers.ChoiceField(choices=ClearanceItem.Status.values),
        "reason": serializers.CharField(allow_null=True),
        "work": serializers.CharField(allow_null=True),
        "offer": serializers.CharField(allow_null=True),
        "amount": serializers.IntegerField(
            allow_null=True, help_text="Price at purchase, in the currency's minor unit."
        ),
        "license": serializers.CharField(allow_null=True),
    },
)
PURCHASE_SCHEMA = inline_serializer(
    "ClearancePurchase",
    {
        "object": serializers.CharField(),
        "clearance": serializers.CharField(),
        "licenses": serializers.ListField(child=serializers.CharField()),
        "amount": serializers.IntegerField(
            help_text="Charged or invoiced, in the currency's minor unit."
        ),
        "currency": serializers.CharField(),
    },
)
NOT_FOUND = {404: [LicensingErrorCode.CLEARANCE_NOT_FOUND]}


class ClearancesApi(GenericAPIView):
    permission_classes = [IsLicensee]
    serializer_class = ClearanceCreateInput  # what OPTIONS describes
    queryset = Clearance.objects.none()

    @extend_schema(
        **operation_docs("clearances_create"),
        request=CREATE_SCHEMA,
        responses={
            201: CLEARANCE_SCHEMA,
            **error_responses(
                400, 401, 403, 422, 429, codes={422: [LicensingErrorCode.IDENTIFIERS_INVALID]}
            ),
        },
    )
    def post(self, request: Request) -> Response:
        body = request.data
        if not isinstance(body, dict):
            raise LicensingError(
                LicensingErrorCode.PARAMETER_INVALID,
                'Send {"use": ..., "items": [...]}.',
                http_status=400,
            )
        clearance = clearance_create(
            organization=request.user.organization, use=body.get("use"), items=body.get("items")
        )
        return Response(
            clearance_render(clearance),
            status=201,
            headers={"Location": reverse("clearance", args=[clearance.public_id])},
        )


class ClearanceApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = Clearance.objects.none()

    @extend_schema(
        **operation_docs("clearances_retrieve"),
        responses={200: CLEARANCE_SCHEMA, **error_responses(401, 403, 404, 429, codes=NOT_FOUND)},
    )
    def get(self, request: Request, clearance_id: str) -> Response:
        clearance = selectors.clearance_get(
            organization=request.user.organization, public_id=clearance_id
        )
        return Response(clearance_render(clearance))


class ClearanceItemsApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = ClearanceItem.objects.none()
    cursor_ordering = ("position",)

    @extend_schema(
        **operation_docs("clearances_items"),
        parameters=[OpenApiParameter("status", OpenApiTypes.STR, enum=ClearanceItem.Status.values)],
        responses={
            200: ITEMS_SCHEMA,
            **error_responses(400, 401, 403, 404, 429, codes=NOT_FOUND),
        },
    )
    def get(self, request: Request, clearance_id: str) -> Response:
        status = choice_parameter(request, "status", ClearanceItem.Status.values)
        clearance = selectors.clearance_get(
            organization=request.user.organization, public_id=clearance_id
        )
        page = self.paginate_queryset(selectors.clearance_items(clearance=clearance, status=status))
        return self.get_paginated_response([item_render(item) for item in page])


class ClearanceItemsCsvApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = ClearanceItem.objects.none()

    @extend_schema(
        **operation_docs("clearances_items_csv"),
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            **error_responses(401, 403, 404, 429, codes=NOT_FOUND),
        },
    )
    def get(self, request: Request, clearance_id: str) -> StreamingHttpResponse:
        clearance = selectors.clearance_get(
            organization=request.user.organization, public_id=clearance_id
        )
        response = StreamingHttpResponse(
            selectors.clearance_items_csv(clearance=clearance), content_type="text/csv"
        )
        response["Content-Disposition"] = f'attachment; filename="{clearance.public_id}.csv"'
        return response


class ClearancePurchaseApi(GenericAPIView):
    permission_classes = [IsLicensee]
    serializer_class = serializers.Serializer  # no body
    queryset = Clearance.objects.none()

    @extend_schema(
        **operation_docs("clearances_purchase"),
        request=None,
        responses={
            201: PURCHASE_SCHEMA,
            **error_responses(
                401,
                402,
                403,
                404,
                409,
                429,
                503,
                codes={
                    402: [LicensingErrorCode.PAYMENT_FAILED],
                    503: [LicensingErrorCode.PAYMENT_PROVIDER_UNAVAILABLE],
                    404: [LicensingErrorCode.CLEARANCE_NOT_FOUND],
                    409: [LicensingErrorCode.QUOTE_EXPIRED, LicensingErrorCode.QUOTE_CHANGED],
                },
            ),
        },
    )
    def post(self, request: Request, clearance_id: str) -> Response:
        bought = clearance_purchase(
            organization=request.user.organization, clearance_id=clearance_id
        )
        return Response(purchase_render(bought), status=201)


CERTIFICATE_SCHEMA = inline_serializer(
    "ClearanceCertificate",
    {
        "object": serializers.CharField(help_text='Always "clearance_certificate".'),
        "clearance": serializers.CharField(),
        "manifest_sha256": serializers.CharField(),
        "format": serializers.CharField(help_text='Always "jws".'),
        "certificate": serializers.CharField(),
        "keys_url": serializers.CharField(),
    },
)


class ClearanceCertificateApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = Clearance.objects.none()

    @extend_schema(
        **operation_docs("clearances_certificate"),
        responses={
            200: CERTIFICATE_SCHEMA,
            **error_responses(
                401,
                403,
                404,
                409,
                429,
                codes={**NOT_FOUND, 409: [LicensingErrorCode.CLEARANCE_NOT_PURCHASED]},
            ),
        },
    )
    def get(self, request: Request, clearance_id: str) -> Response:
        clearance = selectors.clearance_get(
            organization=request.user.organization, public_id=clearance_id
        )
        if clearance.status != Clearance.Status.PURCHASED:
            raise LicensingError(
                LicensingErrorCode.CLEARANCE_NOT_PURCHASED,
                "A clearance is certified once purchased.",
                http_status=409,
            )
        return Response(
            {
                "object": "clearance_certificate",
                "clearance": clearance.public_id,
                "manifest_sha256": clearance.manifest_sha256,
                "format": "jws",
                "certificate": clearance.certificate,
                "keys_url": request.build_absolute_uri(reverse("accord-keys")),
            }
        )
