"""Who sees the payouts pages: finance staff (and superusers) see the finance models."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from config.admin_mixins import ReadOnlyAdminMixin
from licensing.services.creators import user_is_finance


class FinanceOnlyAdmin(ReadOnlyAdminMixin):
    """Finance models: shown to finance users and superusers, read-only rows."""

    def _finance(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user_is_finance(user))

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._finance(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._finance(request)
