"""Cursor lists: `?limit=` and `?cursor=`, answered with API.md's list body.

Keyset pagination: the cursor holds the ordering values of the last row shown and
the next page starts strictly after it, so rows inserted or deleted meanwhile never
make a row appear twice or go missing, and a deep page costs what the first does.
A view names its ordering in `cursor_ordering` (default newest first by primary key);
the last field must be unique and every field non-null.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Model, Q, QuerySet
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from config.errors import DomainError

LIMIT_DEFAULT = 20
LIMIT_MAX = 100


class PaginationError(DomainError):
    http_status = 400


def parse_limit(raw_limit: str | None) -> int:
    if raw_limit is None or raw_limit == "":
        return LIMIT_DEFAULT
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= LIMIT_MAX:
        raise PaginationError(
            "parameter_invalid",
            f"limit must be an integer from 1 to {LIMIT_MAX}.",
            param="limit",
        )
    return int(raw_limit)


def _field_name(ordering_term: str) -> str:
    return ordering_term.lstrip("-")


def encode_cursor(row: Model, ordering: Sequence[str]) -> str:
    values = [getattr(row, _field_name(term)) for term in ordering]
    payload = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str, model: type[Model], ordering: Sequence[str]) -> list[Any]:
    invalid = PaginationError(
        "invalid_cursor", "The cursor is not one this API gave out.", param="cursor"
    )
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw_values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(raw_values, list) or len(raw_values) != len(ordering):
        raise invalid
    try:
        return [
            model._meta.get_field(_field_name(term)).to_python(value)
            for term, value in zip(ordering, raw_values, strict=True)
        ]
    except (DjangoValidationError, TypeError, ValueError):
        raise invalid from None


def after_cursor(ordering: Sequence[str], values: Sequence[Any]) -> Q:
    """Match the rows that come strictly after `values` in `ordering`."""
    condition = Q(pk__in=[])
    equal_prefix = Q()
    for term, value in zip(ordering, values, strict=True):
        name = _field_name(term)
        lookup = "lt" if term.startswith("-") else "gt"
        condition |= equal_prefix & Q(**{f"{name}__{lookup}": value})
        equal_prefix &= Q(**{name: value})
    return condition


class CursorPagination(BasePagination):
    default_ordering: tuple[str, ...] = ("-pk",)

    def paginate_queryset(
        self, queryset: QuerySet, request: Request, view: Any = None
    ) -> list[Any]:
        ordering = tuple(getattr(view, "cursor_ordering", self.default_ordering))
        if ordering[-1].lstrip("-") == "pk":
            ordering = (*ordering[:-1], ordering[-1].replace("pk", queryset.model._meta.pk.name))
        limit = parse_limit(request.query_params.get("limit"))
        cursor = request.query_params.get("cursor")
        if cursor:
            queryset = queryset.filter(
                after_cursor(ordering, decode_cursor(cursor, queryset.model, ordering))
            )
        rows = list(queryset.order_by(*ordering)[: limit + 1])
        self.has_more = len(rows) > limit
        rows = rows[:limit]
        self.next_cursor = encode_cursor(rows[-1], ordering) if self.has_more else None
        return rows

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {
                "object": "list",
                "data": data,
                "has_more": self.has_more,
                "next_cursor": self.next_cursor,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["object", "data", "has_more", "next_cursor"],
            "properties": {
                "object": {"type": "string", "enum": ["list"]},
                "data": schema,
                "has_more": {"type": "boolean"},
                "next_cursor": {"type": "string", "nullable": True},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {
                "name": "limit",
                "in": "query",
                "required": False,
                "schema": {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": LIMIT_MAX,
                    "default": LIMIT_DEFAULT,
                },
            },
            {
                "name": "cursor",
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": "`next_cursor` from the previous page.",
            },
        ]
