"""Royalty runs over HTTP (finance key): start, list, read, lines, approve, recompute."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from config.api.schema import error_responses
from ledger.money import micros_minor_decimal
from licensing.api.operation_docs import operation_docs
from payouts.api.common import IsFinanceElseNotFound
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.selectors.royalty_runs import royalty_run_lines
from payouts.services.royalty_runs import (
    royalty_run_approve,
    royalty_run_recompute,
    royalty_run_start,
)

RUN_SCHEMA = inline_serializer(
    "RoyaltyRun",
    {
        "id": serializers.CharField(),
        "object": serializers.CharField(),
        "period": serializers.CharField(),
        "status": serializers.CharField(),
        "totals": serializers.ListField(child=serializers.DictField()),
        "approvals": serializers.ListField(child=serializers.DictField()),
        "failure_reason": serializers.CharField(allow_null=True),
        "created_at": serializers.DateTimeField(),
    },
)
LINE_SCHEMA = inline_serializer("RoyaltyLine", {"creator": serializers.CharField()})


class RunStartInput(serializers.Serializer):
    period = serializers.CharField(max_length=7)


def run_render(run: RoyaltyRun) -> dict:
    return {
        "id": run.public_id,
        "object": "royalty_run",
        "period": run.period,
        "status": run.status,
        "totals": [
            {
                "currency": currency,
                "gross_decimal": micros_minor_decimal(total["gross_micros"], currency),
                "commission_decimal": micros_minor_decimal(total["commission_micros"], currency),
                "net_decimal": micros_minor_decimal(total["net_micros"], currency),
                "lines": total["lines"],
            }
            for currency, total in sorted(run.totals.items())
        ],
        "approvals": [
            {"user": approval.user.get_username(), "at": approval.at.isoformat()}
            for approval in run.approvals.select_related("user")
        ],
        "progress": {"licenses_total": run.licenses_total, "licenses_posted": run.licenses_posted},
        "flagged": run.flagged,
        "failure_reason": run.failure_reason or None,
        "created_at": run.created_at.isoformat(),
        "posted_at": run.posted_at.isoformat() if run.posted_at else None,
    }


def line_render(line: RoyaltyLine) -> dict:
    currency = line.currency
    return {
        "object": "royalty_line",
        "creator": line.creator.public_id,
        "work": line.work.public_id,
        "license": line.license.public_id,
        "kind": line.kind,
        "units": line.units,
        "unit_amount_decimal": None if line.rate is None else format(line.rate.normalize(), "f"),
        "gross_decimal": micros_minor_decimal(line.gross_micros, currency),
        "commission_decimal": micros_minor_decimal(line.commission_micros, currency),
        "net_decimal": micros_minor_decimal(line.net_micros, currency),
        "currency": currency,
    }


def run_get(run_id: str) -> RoyaltyRun:
    run = RoyaltyRun.objects.filter(public_id=run_id).first()
    if run is None:
        raise PayoutError(PayoutErrorCode.ROYALTY_RUN_NOT_FOUND, "No such royalty run.")
    return run


class RoyaltyRunsApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = RoyaltyRun.objects.none()
    serializer_class = RunStartInput
    cursor_ordering = ("-id",)

    @extend_schema(
        **operation_docs("royalty_runs_list"),
        responses={200: RUN_SCHEMA, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(RoyaltyRun.objects.all())
        return self.get_paginated_response([run_render(run) for run in page])

    @extend_schema(
        **operation_docs("royalty_runs_create"),
        request=RunStartInput,
        responses={
            202: RUN_SCHEMA,
            **error_responses(
                400,
                401,
                404,
                409,
                422,
                429,
                codes={
                    400: [PayoutErrorCode.PERIOD_INVALID],
                    409: [PayoutErrorCode.PERIOD_POSTED],
                    422: [PayoutErrorCode.PERIOD_OPEN],
                },
            ),
        },
    )
    def post(self, request: Request) -> Response:
        payload = RunStartInput(data=request.data)
        payload.is_valid(raise_exception=True)
        run = royalty_run_start(period=payload.validated_data["period"], user=request.user.user)
        run.refresh_from_db()
        return Response(run_render(run), status=202)


class RoyaltyRunApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = RoyaltyRun.objects.none()

    @extend_schema(
        **operation_docs("royalty_runs_retrieve"),
        responses={200: RUN_SCHEMA, **error_responses(401, 404, 429)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        return Response(run_render(run_get(run_id)))


class RoyaltyRunLinesApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = RoyaltyLine.objects.none()
    cursor_ordering = ("id",)

    @extend_schema(
        **operation_docs("royalty_runs_lines"),
        responses={200: LINE_SCHEMA, **error_responses(400, 401, 404, 429)},
    )
    def get(self, request: Request, run_id: str) -> Response:
        lines = royalty_run_lines(run=run_get(run_id))
        for name in ("creator", "work", "license"):
            value = request.query_params.get(name)
            if value:
                lines = lines.filter(**{f"{name}__public_id": value})
        page = self.paginate_queryset(lines)
        return self.get_paginated_response([line_render(line) for line in page])


class RoyaltyRunApproveApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = RoyaltyRun.objects.none()

    @extend_schema(
        **operation_docs("royalty_runs_approve"),
        request=None,
        responses={
            200: RUN_SCHEMA,
            **error_responses(
                401,
                404,
                409,
                429,
                codes={
                    409: [
                        PayoutErrorCode.ROYALTY_RUN_NOT_COMPUTED,
                        PayoutErrorCode.SECOND_APPROVER_REQUIRED,
                    ]
                },
            ),
        },
    )
    def post(self, request: Request, run_id: str) -> Response:
        run = royalty_run_approve(run=run_get(run_id), user=request.user.user)
        run.refresh_from_db()
        return Response(run_render(run))


class RoyaltyRunRecomputeApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = RoyaltyRun.objects.none()

    @extend_schema(
        **operation_docs("royalty_runs_recompute"),
        request=None,
        responses={
            202: RUN_SCHEMA,
            **error_responses(
                401,
                404,
                409,
                429,
                codes={
                    409: [PayoutErrorCode.ROYALTY_RUN_NOT_COMPUTED, PayoutErrorCode.PERIOD_POSTED]
                },
            ),
        },
    )
    def post(self, request: Request, run_id: str) -> Response:
        run = royalty_run_recompute(run=run_get(run_id))
        run.refresh_from_db()
        return Response(run_render(run), status=202)
