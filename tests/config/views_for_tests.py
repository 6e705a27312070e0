"""Small views that exercise the API conventions before real endpoints use them.

They live in the test tree only; `urls_for_tests` mounts them beside the product's
routes for the tests that ask for it with `pytest.mark.urls`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.http import HttpRequest, HttpResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.throttling import ClientAddressRateThrottle
from config.errors import DomainError

TEST_API_KEY = "ak_test_conventions_key"
OTHER_TEST_API_KEY = "ak_test_conventions_other"


@dataclass(frozen=True)
class TestPrincipal:
    name: str
    is_authenticated: bool = True


@dataclass(frozen=True)
class TestKeyRow:
    pk: int


def test_key_resolve(raw_key: str) -> tuple[TestPrincipal, TestKeyRow] | None:
    """Stand in for the catalogue's key table: two keys, two tenants."""
    principals = {TEST_API_KEY: ("tenant-a", 1), OTHER_TEST_API_KEY: ("tenant-b", 2)}
    if raw_key not in principals:
        return None
    name, key_id = principals[raw_key]
    return TestPrincipal(name), TestKeyRow(pk=key_id)


class EchoInput(serializers.Serializer):
    name = serializers.CharField(max_length=50)
    count = serializers.IntegerField(min_value=1)


# Set by a test to let a request sent with `?hold=1` finish: the test, not a sleep,
# decides when the request that holds a claim completes.
HELD_REQUESTS_RELEASE = threading.Event()
HOLD_SECONDS_MAX = 30


class CreateUserApi(APIView):
    """POST creates a user (a real write), held with `?hold=1` until the test says."""

    def post(self, request: Request) -> Response:
        payload = EchoInput(data=request.data)
        payload.is_valid(raise_exception=True)
        if request.query_params.get("hold"):
            assert HELD_REQUESTS_RELEASE.wait(HOLD_SECONDS_MAX), "the test never released it"
        user = get_user_model().objects.create(
            username=f"{payload.validated_data['name']}-{time.monotonic_ns()}"
        )
        return Response(
            {"object": "user", "id": str(user.pk), "tenant": request.user.name},
            status=201,
            headers={"Location": f"/api/v1/_test/users/{user.pk}"},
        )


class RuleBreakingApi(APIView):
    def post(self, request: Request) -> Response:
        raise DomainError("offer_withdrawn", "That offer was withdrawn.", param="offer")


class ExplodingApi(APIView):
    permission_classes = [AllowAny]

    def post(self, request: Request) -> Response:
        get_user_model().objects.create(username=f"written-before-the-crash-{time.monotonic_ns()}")
        raise RuntimeError("a bug")

    def get(self, request: Request) -> Response:
        raise RuntimeError("a bug")


class ReadOnlyApi(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        return Response({"object": "thing"})


class UserListApi(APIView):
    """Lists users newest first, with ties on date_joined broken by id."""

    permission_classes = [AllowAny]
    cursor_ordering = ("-date_joined", "-id")

    def get(self, request: Request) -> Response:
        from config.api.pagination import CursorPagination

        paginator = CursorPagination()
        page = paginator.paginate_queryset(get_user_model().objects.all(), request, view=self)
        return paginator.get_paginated_response([{"id": user.pk} for user in page])


def plain_django_exploding_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a bug outside DRF")


class AuthenticatedApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({"object": "thing", "tenant": request.user.name})


class PublicApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [ClientAddressRateThrottle]
    throttle_scope = "public"

    def get(self, request: Request) -> Response:
        return Response({"object": "thing"})
