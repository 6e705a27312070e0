"""Finance endpoints of payout batches (API.md "Payout batches"): thin views.

Every view needs a finance key; any other key gets 404, as if nothing were here.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from django.http import StreamingHttpResponse
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from licensing.models import Creator
from payouts.api.common import IsFinanceElseNotFound, batch_render, item_render, payout_operation
from payouts.errors import PayoutError, PayoutErrorCode
from payouts.models import PayoutBatch, PayoutItem
from payouts.selectors import payout_batches as selectors
from payouts.services import creator_holds
from payouts.services import payout_batches as services


class BatchCreateInput(serializers.Serializer):
    currency = serializers.CharField(max_length=10)


class HoldInput(serializers.Serializer):
    reason = serializers.CharField(max_length=500)


def _batch(batch_id: str) -> PayoutBatch:
    batch = selectors.payout_batch_get(public_id=batch_id)
    if batch is None:
        raise PayoutError(PayoutErrorCode.BATCH_NOT_FOUND, f"No payout batch {batch_id!r}.")
    return batch


def _rendered(batch: PayoutBatch) -> dict:
    batch = selectors.payout_batch_get(public_id=batch.public_id) or batch
    return batch_render(batch, selectors.batch_progress(batch=batch))


class _FinanceApi(GenericAPIView):
    permission_classes = [IsFinanceElseNotFound]
    queryset = PayoutBatch.objects.none()
    serializer_class = serializers.Serializer  # each operation documents its own body
    cursor_ordering = ("-id",)


class PayoutBatchesApi(_FinanceApi):
    serializer_class = BatchCreateInput

    @payout_operation(operation_id="payout_batches_list")
    def get(self, request: Request) -> Response:
        batches = self.paginate_queryset(selectors.payout_batches_list())
        progress = selectors.batches_progress(batch_ids=[batch.pk for batch in batches])
        return self.get_paginated_response(
            [batch_render(batch, progress[batch.pk]) for batch in batches]
        )

    @payout_operation(operation_id="payout_batches_create", request=BatchCreateInput, ok=201)
    def post(self, request: Request) -> Response:
        data = BatchCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        batch = services.payout_batch_create(
            currency=data.validated_data["currency"], user=request.user.user
        )
        return Response(_rendered(batch), status=status.HTTP_201_CREATED)


class PayoutBatchApi(_FinanceApi):
    @payout_operation(operation_id="payout_batches_retrieve")
    def get(self, request: Request, batch_id: str) -> Response:
        return Response(_rendered(_batch(batch_id)))


class PayoutBatchApproveApi(_FinanceApi):
    @payout_operation(operation_id="payout_batches_approve")
    def post(self, request: Request, batch_id: str) -> Response:
        batch = services.payout_batch_approve(batch=_batch(batch_id), user=request.user.user)
        return Response(_rendered(batch))


class PayoutBatchDispatchApi(_FinanceApi):
    @payout_operation(operation_id="payout_batches_dispatch")
    def post(self, request: Request, batch_id: str) -> Response:
        batch = services.payout_batch_dispatch(batch=_batch(batch_id))
        return Response(_rendered(batch), status=status.HTTP_202_ACCEPTED)


class PayoutItemsApi(_FinanceApi):
    queryset = PayoutItem.objects.none()
    cursor_ordering = ("id",)

    @payout_operation(operation_id="payout_batches_items")
    def get(self, request: Request, batch_id: str) -> Response:
        batch = _batch(batch_id)
        wanted = request.query_params.get("status") or None
        if wanted is not None and wanted not in PayoutItem.Status.values:
            raise PayoutError(
                PayoutErrorCode.PARAMETER_INVALID,
                f"status must be one of {', '.join(PayoutItem.Status.values)}.",
                param="status",
            )
        items = self.paginate_queryset(selectors.payout_items_of(batch=batch, status=wanted))
        return self.get_paginated_response([item_render(item) for item in items])


class PayoutItemRetryApi(_FinanceApi):
    @payout_operation(operation_id="payout_items_retry")
    def post(self, request: Request, batch_id: str, item_id: str) -> Response:
        batch = _batch(batch_id)
        item = selectors.payout_items_of(batch=batch).filter(public_id=item_id).first()
        if item is None:
            raise PayoutError(PayoutErrorCode.ITEM_NOT_FOUND, f"No payout item {item_id!r}.")
        item = services.payout_item_retry(item=item)
        return Response(item_render(item), status=status.HTTP_202_ACCEPTED)


def _csv_cell(value: object) -> object:
    # A name starting with = + - @ would run as a formula in a spreadsheet.
    if isinstance(value, str) and value[:1] in {"=", "+", "-", "@", "\t", "\r"}:
        return "'" + value
    return value


def csv_lines(batch: PayoutBatch) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in selectors.payout_items_csv_rows(batch=batch):
        writer.writerow([_csv_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


class PayoutItemsCsvApi(_FinanceApi):
    @payout_operation(operation_id="payout_batches_items_csv", csv=True)
    def get(self, request: Request, batch_id: str) -> StreamingHttpResponse:
        batch = _batch(batch_id)
        response = StreamingHttpResponse(csv_lines(batch), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{batch.public_id}-items.csv"'
        return response


def _creator(creator_id: str) -> Creator:
    creator = Creator.objects.filter(public_id=creator_id).first()
    if creator is None:
        raise PayoutError(PayoutErrorCode.CREATOR_NOT_FOUND, f"No creator {creator_id!r}.")
    return creator


class CreatorHoldApi(_FinanceApi):
    serializer_class = HoldInput

    @payout_operation(operation_id="creators_hold", request=HoldInput, ok=201)
    def post(self, request: Request, creator_id: str) -> Response:
        creator = _creator(creator_id)
        data = HoldInput(data=request.data)
        data.is_valid(raise_exception=True)
        hold = creator_holds.creator_hold(
            creator=creator, reason=data.validated_data["reason"], user=request.user.user
        )
        return Response(
            {
                "object": "creator_hold",
                "creator": creator.public_id,
                "reason": hold.reason,
                "on_hold": True,
            },
            status=status.HTTP_201_CREATED,
        )


class CreatorReleaseApi(_FinanceApi):
    @payout_operation(operation_id="creators_release")
    def post(self, request: Request, creator_id: str) -> Response:
        creator = _creator(creator_id)
        creator_holds.creator_release(creator=creator)
        return Response({"object": "creator_hold", "creator": creator.public_id, "on_hold": False})
