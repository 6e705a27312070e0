"""Creator endpoints: statements (JSON, CSV, PDF) and earnings (API.md "Statements").

Thin views over `payouts.selectors.statements` and `payouts.selectors.earnings`; the
three formats of a statement are written by `payouts.documents.statements` from one
read, so they show the same figures.
"""

from __future__ import annotations

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from ledger.money import micros_minor_decimal
from licensing.api.operation_docs import operation_docs
from licensing.api.permissions import IsCreator
from payouts.documents.statements import (
    statement_csv_text,
    statement_pdf,
    statement_render,
)
from payouts.errors import PayoutErrorCode
from payouts.selectors.earnings import Earnings, earnings_for, months_parse
from payouts.selectors.statements import (
    statement_get,
    statement_periods,
    statements_for_period,
)

_PERIOD = OpenApiParameter(
    "period", str, description="YYYY-MM (UTC). Without it: every period since the first one."
)
_STATEMENT_ERRORS = error_responses(
    401, 403, 404, 429, codes={404: [PayoutErrorCode.STATEMENT_NOT_FOUND]}
)


def _schema(operation_id: str, *, binary: bool = False, parameters=(), errors=None):
    answer = OpenApiResponse(OpenApiTypes.BINARY if binary else OpenApiTypes.OBJECT)
    return extend_schema(
        **operation_docs(operation_id),
        parameters=list(parameters),
        responses={200: answer, **(errors or _STATEMENT_ERRORS)},
    )


class _CreatorApi(GenericAPIView):
    permission_classes = [IsCreator]
    serializer_class = serializers.Serializer

    def get_queryset(self):  # no model behind a statement; the schema needs none
        return None


class MyStatementsApi(_CreatorApi):
    @_schema(
        "me_statements_list",
        parameters=[_PERIOD],
        errors=error_responses(400, 401, 403, 429, codes={400: [PayoutErrorCode.PERIOD_INVALID]}),
    )
    def get(self, request: Request) -> Response:
        creator = request.user.creator
        period = request.query_params.get("period")
        periods = statement_periods(creator=creator) if period is None else [period]
        statements = [
            statement
            for each in periods
            for statement in statements_for_period(creator=creator, period=each)
        ]
        return Response(
            {
                "object": "list",
                "data": [statement_render(statement) for statement in statements],
                "has_more": False,
                "next_cursor": None,
            }
        )


class MyStatementApi(_CreatorApi):
    @_schema("me_statements_retrieve")
    def get(self, request: Request, statement_id: str) -> Response:
        statement = statement_get(creator=request.user.creator, statement_public_id=statement_id)
        return Response(statement_render(statement))


class MyStatementCsvApi(_CreatorApi):
    @_schema("me_statements_csv", binary=True)
    def get(self, request: Request, statement_id: str) -> HttpResponse:
        statement = statement_get(creator=request.user.creator, statement_public_id=statement_id)
        response = HttpResponse(statement_csv_text(statement), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{statement.id}.csv"'
        return response


class MyStatementPdfApi(_CreatorApi):
    @_schema("me_statements_pdf", binary=True)
    def get(self, request: Request, statement_id: str) -> HttpResponse:
        statement = statement_get(creator=request.user.creator, statement_public_id=statement_id)
        response = HttpResponse(statement_pdf(statement), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{statement.id}.pdf"'
        return response


def earnings_render(earnings: Earnings) -> dict:
    currency = earnings.currency

    def part(key: str, part) -> dict:
        return {
            key: part.id,
            "name": part.name,
            "net_decimal": micros_minor_decimal(part.net_micros, currency),
        }

    return {
        "object": "earnings",
        "currency": currency,
        "currencies": list(earnings.currencies),
        "months": [
            {
                "period": month.period,
                "net_decimal": micros_minor_decimal(month.net_micros, currency),
                "by_work": [part("work", each) for each in month.by_work],
                "by_licensee": [part("licensee", each) for each in month.by_licensee],
            }
            for month in earnings.months
        ],
    }


class MyEarningsApi(_CreatorApi):
    @_schema(
        "me_earnings_retrieve",
        parameters=[
            OpenApiParameter("months", int, description="1 to 36, default 12."),
            OpenApiParameter("currency", str, description="Default: your payout currency."),
        ],
        errors=error_responses(
            400, 401, 403, 429, codes={400: [PayoutErrorCode.PARAMETER_INVALID]}
        ),
    )
    def get(self, request: Request) -> Response:
        months = months_parse(request.query_params.get("months"))
        earnings = earnings_for(
            creator=request.user.creator,
            months=months,
            currency=request.query_params.get("currency"),
        )
        return Response(earnings_render(earnings))
