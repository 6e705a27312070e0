"""The licensee endpoints: buy licenses, list and read them, fetch and verify certificates."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from config.api.throttling import ClientAddressRateThrottle
from licensing.api.operation_docs import operation_docs
from licensing.api.permissions import IsLicensee
from licensing.api.serializers import (
    MINOR_UNIT_HELP,
    OfferSerializer,
    StrictCharField,
    offer_render,
)
from licensing.certificates.keys import public_jwks
from licensing.certificates.verification import certificate_verify_with_records
from licensing.errors import LicensingErrorCode
from licensing.models import License
from licensing.selectors import licenses as license_selectors
from licensing.services.purchases import license_purchase

CERTIFICATE_LENGTH_MAX = 100_000


class LicenseSerializer(serializers.Serializer):
    """A license as API.md shows it; `offer` is the offer exactly as it was bought."""

    def to_representation(self, granted: License) -> dict[str, Any]:
        version = granted.offer_version
        return {
            "id": granted.public_id,
            "object": "license",
            "status": license_selectors.license_effective_status(granted),
            "offer": offer_render(version.offer, version),
            "works": [work.public_id for work in license_selectors.license_works(granted)],
            "licensee": granted.organization.public_id,
            "starts_at": granted.starts_at.isoformat(),
            "ends_at": granted.ends_at.isoformat() if granted.ends_at else None,
            "amount": granted.amount,
            "currency": granted.currency,
            "commission_basis_points": granted.commission_basis_points,
            "revoked_at": granted.revoked_at.isoformat() if granted.revoked_at else None,
            "created_at": granted.created_at.isoformat(),
        }


class LicenseSchema(serializers.Serializer):
    """The documented shape of `LicenseSerializer`'s output (for the OpenAPI schema)."""

    id = serializers.CharField()
    object = serializers.CharField(help_text='Always "license".')
    status = serializers.ChoiceField(choices=License.Status.values)
    offer = OfferSerializer()
    works = serializers.ListField(child=serializers.CharField())
    licensee = serializers.CharField()
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField(allow_null=True)
    amount = serializers.IntegerField(help_text="What the license cost, " + MINOR_UNIT_HELP)
    currency = serializers.CharField()
    commission_basis_points = serializers.IntegerField(
        allow_null=True,
        help_text="The platform's commission on this license in basis points, fixed at purchase.",
    )
    revoked_at = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()


class StrictBooleanField(serializers.BooleanField):
    """true or false, and only those: DRF's BooleanField would take "yes" or 1."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class LicensePurchaseInput(serializers.Serializer):
    offer = StrictCharField(max_length=40)
    works = serializers.ListField(
        child=StrictCharField(max_length=40),
        required=False,
        allow_empty=True,
        max_length=1000,
    )
    allow_duplicate = StrictBooleanField(
        required=False,
        default=False,
        help_text="Buy even works the organisation already holds for this use (else 409).",
    )


class LicensesApi(GenericAPIView):
    permission_classes = [IsLicensee]
    serializer_class = LicensePurchaseInput  # what OPTIONS describes
    queryset = License.objects.none()  # for the schema; requests read through the selectors
    cursor_ordering = ("-id",)

    @extend_schema(
        **operation_docs("licenses_list"),
        responses={200: LicenseSchema(many=True), **error_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        licenses = license_selectors.organization_licenses(organization=request.user.organization)
        page = self.paginate_queryset(licenses)
        return self.get_paginated_response([LicenseSerializer(item).data for item in page])

    @extend_schema(
        **operation_docs("licenses_create"),
        request=LicensePurchaseInput,
        responses={
            201: LicenseSchema,
            **error_responses(
                400,
                401,
                402,
                403,
                404,
                409,
                422,
                429,
                503,
                codes={
                    402: [LicensingErrorCode.PAYMENT_FAILED],
                    503: [LicensingErrorCode.PAYMENT_PROVIDER_UNAVAILABLE],
                    404: [LicensingErrorCode.OFFER_NOT_FOUND],
                    409: [LicensingErrorCode.ALREADY_LICENSED, LicensingErrorCode.OFFER_CHANGED],
                    422: [
                        LicensingErrorCode.OFFER_WITHDRAWN,
                        LicensingErrorCode.CURRENCY_MISMATCH,
                        LicensingErrorCode.WORKS_REQUIRED,
                        LicensingErrorCode.WORKS_NOT_ALLOWED,
                        LicensingErrorCode.WORK_NOT_IN_OFFER,
                        LicensingErrorCode.WORK_RESERVED,
                        LicensingErrorCode.PURCHASE_KEY_REUSED,
                    ],
                },
            ),
        },
    )
    def post(self, request: Request) -> Response:
        payload = LicensePurchaseInput(data=request.data)
        payload.is_valid(raise_exception=True)
        granted = license_purchase(
            organization=request.user.organization,
            offer_id=payload.validated_data["offer"],
            work_ids=payload.validated_data.get("works"),
            request_key=request.headers.get("Idempotency-Key"),
            allow_duplicate=payload.validated_data["allow_duplicate"],
        )
        return Response(
            LicenseSerializer(granted).data,
            status=201,
            headers={"Location": reverse("license-detail", args=[granted.public_id])},
        )


class LicenseApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = License.objects.none()

    @extend_schema(
        **operation_docs("licenses_retrieve"),
        responses={
            200: LicenseSchema,
            **error_responses(
                401, 403, 404, 429, codes={404: [LicensingErrorCode.LICENSE_NOT_FOUND]}
            ),
        },
    )
    def get(self, request: Request, license_id: str) -> Response:
        granted = license_selectors.organization_license_get(
            organization=request.user.organization, public_id=license_id
        )
        return Response(LicenseSerializer(granted).data)


CERTIFICATE_SCHEMA = inline_serializer(
    "LicenseCertificate",
    {
        "object": serializers.CharField(help_text='Always "license_certificate".'),
        "license": serializers.CharField(),
        "format": serializers.CharField(help_text='Always "jws".'),
        "certificate": serializers.CharField(),
        "keys_url": serializers.CharField(),
    },
)


class LicenseCertificateApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = License.objects.none()

    @extend_schema(
        **operation_docs("licenses_certificate"),
        responses={
            200: CERTIFICATE_SCHEMA,
            **error_responses(
                401, 403, 404, 429, codes={404: [LicensingErrorCode.LICENSE_NOT_FOUND]}
            ),
        },
    )
    def get(self, request: Request, license_id: str) -> Response:
        granted = license_selectors.organization_license_get(
            organization=request.user.organization, public_id=license_id
        )
        return Response(
            {
                "object": "license_certificate",
                "license": granted.public_id,
                "format": "jws",
                "certificate": granted.certificate,
                "keys_url": request.build_absolute_uri(reverse("accord-keys")),
            }
        )


class CertificateVerifyInput(serializers.Serializer):
    certificate = StrictCharField(max_length=CERTIFICATE_LENGTH_MAX, trim_whitespace=True)


VERIFICATION_SCHEMA = inline_serializer(
    "CertificateVerification",
    {
        "object": serializers.CharField(help_text='Always "certificate_verification".'),
        "valid": serializers.BooleanField(),
        "signature_valid": serializers.BooleanField(),
        "problems": serializers.ListField(child=serializers.CharField()),
        "mismatched_fields": serializers.ListField(
            child=serializers.CharField(),
            help_text="Statement fields that differ from the license row (problem "
            '"statement_mismatch"), e.g. "licensee", "works", "terms.amount", "ends_at".',
        ),
        "key": serializers.CharField(allow_null=True),
        "license": serializers.CharField(allow_null=True),
        "license_status": serializers.CharField(allow_null=True),
        "clearance": serializers.CharField(
            allow_null=True, help_text="The dataset clearance a clearance certificate names."
        ),
        "clearance_status": serializers.CharField(allow_null=True),
        "inactive_licenses": serializers.ListField(
            child=serializers.CharField(),
            help_text="Licenses a clearance certificate names that are revoked or expired.",
        ),
        "statement": serializers.DictField(allow_null=True),
    },
)


class CertificateVerifyApi(GenericAPIView):
    """Anyone may check a certificate, and learn what no offline check can: a revocation."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ClientAddressRateThrottle]
    throttle_scope = "public"
    serializer_class = CertificateVerifyInput  # what OPTIONS describes

    @extend_schema(
        **operation_docs("certificates_verify"),
        request=CertificateVerifyInput,
        responses={200: VERIFICATION_SCHEMA, **error_responses(400, 429)},
    )
    def post(self, request: Request) -> Response:
        payload = CertificateVerifyInput(data=request.data)
        payload.is_valid(raise_exception=True)
        found = certificate_verify_with_records(
            payload.validated_data["certificate"], jwks=public_jwks()
        )
        check = found.check
        return Response(
            {
                "object": "certificate_verification",
                "valid": found.valid,
                "signature_valid": check.signature_valid,
                "problems": found.problems,
                "mismatched_fields": found.mismatched_fields,
                "key": check.kid,
                "license": found.license_id,
                "license_status": found.license_status,
                "clearance": found.clearance_id,
                "clearance_status": found.clearance_status,
                "inactive_licenses": found.inactive_licenses,
                "statement": check.statement if check.signature_valid else None,
            }
        )
