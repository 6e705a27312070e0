"""The portal for licensee organisations: members see their own, staff see all and revoke.

A member is a staff user (not a superuser) in the "Licensee members" group, scoped to
the organisations they belong to exactly as creators are scoped to their catalogue:
anything else is a 404. Licenses are read-only for everyone; a superuser revokes one
by writing the reason on its page, which calls `license_revoke`.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest

from config.admin_mixins import ReadOnlyAdminMixin
from licensing.models import (
    InvoiceLine,
    License,
    LicenseeOrganization,
    OrganizationMembership,
    Purchase,
)
from licensing.selectors.licenses import license_effective_status
from licensing.services.licenses import license_revoke


def _member_scope(request: HttpRequest) -> QuerySet | None:
    """The organisations a portal user may see; None means every one (superusers)."""
    if request.user.is_superuser:
        return None
    return LicenseeOrganization.objects.filter(memberships__user=request.user)


class OrganizationScopedAdmin(admin.ModelAdmin):
    organization_path = "organization"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        scope = _member_scope(request)
        if scope is not None:
            queryset = queryset.filter(**{f"{self.organization_path}__in": scope})
        return queryset

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("No such object.")
        return obj


class MembershipInline(admin.TabularInline):
    model = OrganizationMembership
    extra = 0
    autocomplete_fields = ()
    raw_id_fields = ("user",)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(LicenseeOrganization)
class LicenseeOrganizationAdmin(OrganizationScopedAdmin):
    organization_path = "pk"
    list_display = ("name", "slug", "billing", "currency", "public_id", "created_at")
    search_fields = ("name", "slug", "public_id")
    readonly_fields = (
        "public_id", "slug", "billing", "currency", "stripe_customer_id",
        "stripe_payment_method_id", "created_at",
    )  # fmt: skip
    fields = ("name", *readonly_fields)
    inlines = [MembershipInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        # A card organisation needs a Stripe customer: `manage.py create_org` makes one.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(License)
class LicenseAdmin(OrganizationScopedAdmin):
    list_display = (
        "public_id",
        "organization",
        "offer_version",
        "current_status",
        "starts_at",
        "ends_at",
        "amount",
        "currency",
    )
    list_filter = ("status", "currency")
    search_fields = ("public_id", "organization__name")
    list_select_related = ("organization", "offer_version__offer")
    readonly_fields = (
        "public_id", "organization", "offer_version", "current_status", "starts_at", "ends_at",
        "amount", "currency", "ledger_transaction_id", "revoked_at", "revoked_by", "created_at",
        "certificate",
    )  # fmt: skip
    fields = (*readonly_fields, "revoked_reason")

    @admin.display(description="status")
    def current_status(self, granted: License) -> str:
        return license_effective_status(granted)

    def get_readonly_fields(self, request: HttpRequest, obj: License | None = None) -> tuple:
        revocable = (
            request.user.is_superuser and obj is not None and obj.status != License.Status.REVOKED
        )
        return self.readonly_fields if revocable else (*self.readonly_fields, "revoked_reason")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    def save_model(self, request: HttpRequest, obj: License, form: Any, change: bool) -> None:
        reason = (form.cleaned_data.get("revoked_reason") or "").strip()
        if not reason:
            messages.warning(request, "Nothing changed: write a reason to revoke the license.")
            return
        license_revoke(granted=obj, revoked_by=request.user, reason=reason)
        messages.success(request, f"License {obj.public_id} revoked.")


@admin.register(Purchase)
class PurchaseAdmin(ReadOnlyAdminMixin, OrganizationScopedAdmin):
    list_display = (
        "public_id",
        "organization",
        "status",
        "amount",
        "currency",
        "failure_code",
        "created_at",
    )
    list_filter = ("status",)
    readonly_fields = [field.name for field in Purchase._meta.fields]


@admin.register(InvoiceLine)
class InvoiceLineAdmin(PurchaseAdmin):
    list_display = ("organization", "period", "description", "amount", "currency", "created_at")
    list_filter = ("period", "currency")
    readonly_fields = [field.name for field in InvoiceLine._meta.fields]
