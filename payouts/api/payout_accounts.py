"""Creator endpoints: `POST/GET /api/v1/me/payout-account` and `GET /api/v1/me/payouts`."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response

from licensing.api.permissions import IsCreator
from payouts.api.common import item_render, payout_operation
from payouts.models import PayoutAccount, PayoutItem
from payouts.selectors.payout_batches import payout_items_of_creator
from payouts.services.payout_accounts import payout_account_connect


def account_render(account: PayoutAccount | None, onboarding_url: str | None) -> dict:
    return {
        "object": "payout_account",
        "stripe_account": account.stripe_account_id if account else None,
        "payouts_enabled": bool(account and account.ready),
        "onboarding_url": onboarding_url,
    }


class MyPayoutAccountApi(GenericAPIView):
    permission_classes = [IsCreator]
    queryset = PayoutAccount.objects.none()
    serializer_class = serializers.Serializer

    @payout_operation()
    def get(self, request: Request) -> Response:
        account = PayoutAccount.objects.filter(creator=request.user.creator).first()
        return Response(account_render(account, None))

    @payout_operation()
    def post(self, request: Request) -> Response:
        connection = payout_account_connect(
            creator=request.user.creator,
            return_url=request.build_absolute_uri("/admin/payouts/payoutaccount/"),
            refresh_url=request.build_absolute_uri("/admin/payouts/payoutaccount/connect/"),
        )
        return Response(account_render(connection.account, connection.onboarding_url))


class MyPayoutsApi(GenericAPIView):
    permission_classes = [IsCreator]
    queryset = PayoutItem.objects.none()
    serializer_class = serializers.Serializer
    cursor_ordering = ("-id",)

    @payout_operation()
    def get(self, request: Request) -> Response:
        items = self.paginate_queryset(payout_items_of_creator(creator=request.user.creator))
        return self.get_paginated_response([item_render(item) for item in items])
