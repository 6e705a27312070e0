"""Invoices over HTTP (licensee key): list, read, PDF; another organisation's is a 404.

The JSON and the PDF are both made from `payouts.selectors.invoices.invoice_document`,
so they cannot disagree.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from licensing.api.operation_docs import operation_docs
from licensing.api.permissions import IsLicensee
from payouts.documents.invoices import invoice_pdf
from payouts.errors import PayoutErrorCode
from payouts.models import Invoice
from payouts.selectors.invoices import (
    InvoiceDocument,
    invoice_document,
    organization_invoice_get,
    organization_invoice_upcoming,
    organization_invoices,
)

INVOICE_LINE_FIELDS = {
    "description": serializers.CharField(),
    "license": serializers.CharField(),
    "kind": serializers.CharField(),
    "units": serializers.IntegerField(allow_null=True),
    "amount": serializers.IntegerField(
        help_text="In the currency's minor unit, rounded down; the exact figure is "
        "amount_decimal (minor units)."
    ),
    "amount_decimal": serializers.CharField(),
}
INVOICE_FIELDS = {
    "id": serializers.CharField(),
    "object": serializers.CharField(),
    "period": serializers.CharField(),
    "status": serializers.ChoiceField(choices=Invoice.Status.values),
    "currency": serializers.CharField(),
    "lines": inline_serializer("InvoiceLine", INVOICE_LINE_FIELDS, many=True),
    "total": serializers.IntegerField(
        help_text="The sum of the lines in the minor unit, rounded down; total_decimal is exact."
    ),
    "total_decimal": serializers.CharField(),
    "carried_in_decimal": serializers.CharField(),
    "amount_due": serializers.IntegerField(
        help_text="What is charged or to pay, in the minor unit: total plus the remainder "
        "carried in, rounded down."
    ),
    "due_at": serializers.DateTimeField(),
    "created_at": serializers.DateTimeField(),
    "paid_at": serializers.DateTimeField(allow_null=True),
}
INVOICE_SCHEMA = inline_serializer("Invoice", INVOICE_FIELDS)
UPCOMING_SCHEMA = inline_serializer(
    "InvoiceUpcoming",
    {
        **INVOICE_FIELDS,
        "id": serializers.CharField(allow_null=True, help_text="None: not issued yet."),
        "status": serializers.ChoiceField(choices=["upcoming"]),
    },
)
PERIOD_PARAMETER = OpenApiParameter(
    "period", OpenApiTypes.STR, description="YYYY-MM: only that month's invoices."
)
NOT_FOUND = error_responses(401, 403, 404, 429, codes={404: [PayoutErrorCode.INVOICE_NOT_FOUND]})


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def invoice_render(document: InvoiceDocument) -> dict[str, Any]:
    return {
        "id": document.id,
        "object": "invoice",
        "period": document.period,
        "status": document.status,
        "currency": document.currency,
        "billing": document.billing,
        "lines": [asdict(line) for line in document.lines],
        "total": document.total,
        "total_decimal": document.total_decimal,
        "carried_in_decimal": document.carried_in_decimal,
        "amount_due": document.amount_due,
        "due_at": _time(document.due_at),
        "created_at": _time(document.created_at),
        "paid_at": _time(document.paid_at),
        "paid_by": document.paid_by,
        "payment_failure": (
            {"code": document.failure_code, "message": document.failure_message}
            if document.status == Invoice.Status.OPEN and document.failure_code
            else None
        ),
    }


class _LicenseeApi(GenericAPIView):
    permission_classes = [IsLicensee]
    queryset = Invoice.objects.none()


class InvoicesApi(_LicenseeApi):
    cursor_ordering = ("-id",)

    @extend_schema(
        **operation_docs("invoices_list"),
        parameters=[PERIOD_PARAMETER],
        responses={
            200: inline_serializer("InvoiceList", INVOICE_FIELDS, many=True),
            **error_responses(400, 401, 403, 429, codes={400: [PayoutErrorCode.PERIOD_INVALID]}),
        },
    )
    def get(self, request: Request) -> Response:
        invoices = organization_invoices(
            organization=request.user.organization, period=request.query_params.get("period")
        )
        page = self.paginate_queryset(invoices)
        return self.get_paginated_response(
            [invoice_render(invoice_document(invoice)) for invoice in page]
        )


class InvoiceUpcomingApi(_LicenseeApi):
    @extend_schema(
        **operation_docs("invoices_upcoming"),
        responses={200: UPCOMING_SCHEMA, **error_responses(401, 403, 429)},
    )
    def get(self, request: Request) -> Response:
        document, _ = organization_invoice_upcoming(organization=request.user.organization)
        return Response(invoice_render(document))


class InvoiceApi(_LicenseeApi):
    @extend_schema(
        **operation_docs("invoices_retrieve"), responses={200: INVOICE_SCHEMA, **NOT_FOUND}
    )
    def get(self, request: Request, invoice_id: str) -> Response:
        invoice = organization_invoice_get(
            organization=request.user.organization, public_id=invoice_id
        )
        return Response(invoice_render(invoice_document(invoice)))


class InvoicePdfApi(_LicenseeApi):
    @extend_schema(
        **operation_docs("invoices_pdf"),
        responses={200: OpenApiResponse(OpenApiTypes.BINARY), **NOT_FOUND},
    )
    def get(self, request: Request, invoice_id: str) -> HttpResponse:
        invoice = organization_invoice_get(
            organization=request.user.organization, public_id=invoice_id
        )
        document = invoice_document(invoice)
        response = HttpResponse(invoice_pdf(document), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{document.id}-{document.period}.pdf"'
        return response
