"""API keys in the portal: listed by prefix, revoked in bulk; a key's secret is never stored."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest

from licensing.models import (
    ApiKey,
)
from licensing.services.api_keys import api_key_revoke


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Staff see keys by their prefix and can revoke them; a key's secret is never stored."""

    list_display = ["prefix", "kind", "creator", "user", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["kind"]
    list_select_related = ["creator", "user"]
    readonly_fields = [field.name for field in ApiKey._meta.fields]
    actions = ["revoke_keys"]

    @admin.action(description="Revoke the selected keys", permissions=["revoke"])
    def revoke_keys(self, request: HttpRequest, queryset: QuerySet) -> None:
        if not self.has_revoke_permission(request):
            raise PermissionDenied
        keys = list(queryset.filter(revoked_at__isnull=True)[:1000])
        for api_key in keys:
            api_key_revoke(api_key=api_key)
        self.message_user(request, f"{len(keys)} key(s) revoked.")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a key's row is read-only; revoking is its only change

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        """Revoking needs the model's change permission (view-only staff may only look)."""
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
