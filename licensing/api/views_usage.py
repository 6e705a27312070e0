"""The usage endpoints of API.md: declare a batch of events (more to come here).

The body is decoded by msgspec (`usage_decode`), not by DRF's parser and serializers:
a batch of 10,000 events would otherwise build 10,000 serializers. DRF still routes,
authenticates, throttles, renders errors and documents the endpoint.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from licensing.api import usage_decode
from licensing.api.operation_docs import operation_docs
from licensing.api.permissions import IsLicensee
from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models import UsageEvent
from licensing.services.usage import usage_correct
from licensing.services.usage_ingest import usage_ingest, usage_invalid


class UsageEventInputSchema(serializers.Serializer):
    """One event as a licensee declares it (the schema; msgspec checks it)."""

    id = serializers.CharField(min_length=1, max_length=128, help_text="Your own event id.")
    license = serializers.CharField()
    work = serializers.CharField(help_text="wrk_… or sha256:/isrc:/isbn:/doi:/url: identifier.")
    units = serializers.IntegerField(min_value=1, max_value=2**53)
    unit = serializers.CharField(help_text="token, item, retrieval, second or output.")
    occurred_at = serializers.DateTimeField(help_text="RFC 3339 with offset, not in the future.")
    model = serializers.CharField(required=False, max_length=200)


class UsageBatchSchema(serializers.Serializer):
    events = UsageEventInputSchema(many=True, min_length=1, max_length=10_000)


UsageReceiptSchema = inline_serializer(
    "UsageReceipt",
    {
        "object": serializers.CharField(help_text='Always "usage_receipt".'),
        "accepted": serializers.IntegerField(),
        "duplicates": serializers.IntegerField(),
        "flagged": serializers.DictField(child=serializers.IntegerField()),
    },
)


def _malformed(error: usage_decode.BatchMalformed) -> LicensingError:
    return LicensingError(error.code, error.message, param=error.param, http_status=400)


class UsageApi(GenericAPIView):
    permission_classes = [IsLicensee]
    serializer_class = UsageBatchSchema
    queryset = UsageEvent.objects.none()

    @extend_schema(
        **operation_docs("usage_create"),
        request=UsageBatchSchema,
        responses={
            200: UsageReceiptSchema,
            **error_responses(
                400, 401, 403, 413, 422, 429, codes={422: [LicensingErrorCode.USAGE_INVALID]}
            ),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            items = usage_decode.batch_items(request.body, key="events")
        except usage_decode.BatchMalformed as error:
            raise _malformed(error) from None
        nul_check = usage_decode.nul_possible(request.body)
        events, details = usage_decode.events_decode(items, nul_check=nul_check)
        if details:
            raise usage_invalid(details)
        receipt = usage_ingest(organization=request.user.organization, events=events)
        return Response(
            {
                "object": "usage_receipt",
                "accepted": receipt.accepted,
                "duplicates": receipt.duplicates,
                "flagged": receipt.flagged,
            }
        )


class UsageCorrectionInputSchema(serializers.Serializer):
    id = serializers.CharField(min_length=1, max_length=128, help_text="The event's id.")
    units = serializers.IntegerField(min_value=0, max_value=2**53, help_text="0 retracts.")
    reason = serializers.CharField(min_length=1, max_length=500)


class UsageCorrectionBatchSchema(serializers.Serializer):
    corrections = UsageCorrectionInputSchema(many=True, min_length=1, max_length=10_000)


class UsageCorrectionsApi(GenericAPIView):
    permission_classes = [IsLicensee]
    serializer_class = UsageCorrectionBatchSchema
    queryset = UsageEvent.objects.none()

    @extend_schema(
        **operation_docs("usage_corrections_create"),
        request=UsageCorrectionBatchSchema,
        responses={
            200: inline_serializer(
                "UsageCorrectionReceipt",
                {
                    "object": serializers.CharField(),
                    "amended": serializers.IntegerField(),
                    "adjusted": serializers.IntegerField(),
                },
            ),
            **error_responses(
                400, 401, 403, 413, 422, 429, codes={422: [LicensingErrorCode.USAGE_INVALID]}
            ),
        },
    )
    def post(self, request: Request) -> Response:
        try:
            items = usage_decode.batch_items(request.body, key="corrections")
        except usage_decode.BatchMalformed as error:
            raise _malformed(error) from None
        corrections, details = usage_decode.corrections_decode(items)
        if details:
            raise usage_invalid(details)
        amended, adjusted = usage_correct(
            organization=request.user.organization,
            corrections=corrections,
            api_key=request.user.api_key,
            user=request.user.user,
        )
        return Response(
            {"object": "usage_correction_receipt", "amended": amended, "adjusted": adjusted}
        )
