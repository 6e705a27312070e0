"""What the finance views share: the finance-key permission (404 for any other key)
and the decimal strings in minor units that API.md shows amounts as."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rest_framework.exceptions import NotFound
from rest_framework.permissions import BasePermission

from ledger.money import minor_unit_micros
from licensing.models import ApiKey


class IsFinanceElseNotFound(BasePermission):
    """Finance keys only; any other key is 404, so finance endpoints are never revealed."""

    def has_permission(self, request: Any, view: Any) -> bool:
        principal = request.user
        if not getattr(principal, "is_authenticated", False):
            return False  # 401: DRF answers NotAuthenticated
        if getattr(principal, "kind", None) != ApiKey.Kind.FINANCE:
            raise NotFound()
        return True


def micros_decimal(amount_micros: int, currency: str) -> str:
    """Micros as an exact decimal string in the currency's minor unit ("0.294", "-420")."""
    value = Decimal(amount_micros) / Decimal(minor_unit_micros(currency))
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text or "0"
