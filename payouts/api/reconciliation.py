"""`GET /api/v1/reconciliation?date=YYYY-MM-DD` (finance key): a day against Stripe, now."""

from __future__ import annotations

import datetime

from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from payouts.api.common import IsFinanceElseNotFound, payout_operation
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import Reconciliation
from payouts.selectors.reconciliation import reconciliation_for_date


def _date(raw: str | None) -> datetime.date:
    try:
        return datetime.date.fromisoformat(raw or "")
    except ValueError:
        raise PayoutError(
            PayoutErrorCode.PARAMETER_INVALID,
            "Give the date as YYYY-MM-DD.",
            param="date",
        ) from None


class ReconciliationApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = Reconciliation.objects.none()
    serializer_class = serializers.Serializer

    @payout_operation(operation_id="reconciliation_retrieve")
    def get(self, request: Request) -> Response:
        day = _date(request.query_params.get("date"))
        result = reconciliation_for_date(day=day)
        return Response(
            {
                "object": "reconciliation",
                "date": day.isoformat(),
                "matched": result.matched,
                "differences": result.differences,
            }
        )
