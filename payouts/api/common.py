"""What every payouts endpoint shares: finance-only access (404 to others), renderers,
and the decimal strings in minor units that API.md shows amounts as."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from config.api.schema import error_responses
from ledger.money import micros_format, micros_minor_decimal
from licensing.api.operation_docs import operation_docs
from licensing.models import ApiKey
from payouts.models import PayoutBatch, PayoutItem
from payouts.selectors.payout_batches import BatchProgress


class IsFinanceElseNotFound(BasePermission):
    """Finance endpoints do not exist for other keys (API.md: any other key gets 404)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = request.user
        if not getattr(principal, "is_authenticated", False):
            return False  # 401: DRF answers NotAuthenticated
        if not hasattr(view, request.method.lower()):
            return True  # let DRF answer 405 for a method the route does not have
        if getattr(principal, "kind", None) != ApiKey.Kind.FINANCE:
            raise Http404("not found")
        return True


def _time(value: Any) -> str | None:
    return value.isoformat() if value else None


def batch_render(batch: PayoutBatch, progress: BatchProgress) -> dict[str, Any]:
    return {
        "id": batch.public_id,
        "object": "payout_batch",
        "currency": batch.currency,
        "status": batch.status,
        "approvals": [
            {"user": approval.user.username, "at": _time(approval.at)}
            for approval in batch.approvals.all()
        ],
        "counts": progress.counts,
        "amounts": progress.amounts,
        "items_count": batch.items_count,
        "total": batch.total,
        "transfer_group": batch.transfer_group,
        "skipped": batch.skipped,
        "created_at": _time(batch.created_at),
        "dispatched_at": _time(batch.dispatched_at),
        "completed_at": _time(batch.completed_at),
    }


def item_render(item: PayoutItem) -> dict[str, Any]:
    return {
        "id": item.public_id,
        "object": "payout_item",
        "batch": item.batch.public_id,
        "creator": item.creator.public_id,
        "amount": item.amount,
        "currency": item.currency,
        "status": item.status,
        "transfer": item.transfer_id or None,
        "failure_code": item.failure_code or None,
        "attempts": item.attempts,
        "paid_at": _time(item.paid_at),
    }


__all__ = [
    "IsFinanceElseNotFound",
    "batch_render",
    "item_render",
    "micros_format",
    "micros_minor_decimal",
]


def payout_operation(
    *, operation_id: str, request: Any = None, ok: int = 200, csv: bool = False
) -> Any:
    """Document one operation: its body, its answer, and every error it may give."""
    answer = OpenApiResponse(OpenApiTypes.BINARY if csv else OpenApiTypes.OBJECT)
    return extend_schema(
        **operation_docs(operation_id),
        request=request,
        responses={ok: answer, **error_responses(400, 401, 403, 404, 409, 422, 429)},
    )
