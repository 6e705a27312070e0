"""Admin behaviour shared by every app's portal pages."""

from typing import Any

from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Rows that are written by services only: the portal shows them and changes nothing."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
