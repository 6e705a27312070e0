"""Dataset clearances in the portal: read-only, for staff, finance and the organisation's members.

Superusers and finance see every organisation's clearances (a clearance is a quote and,
once bought, a payment with its licenses); a member of a licensee organisation sees its
own, as with its licenses (`licensees.OrganizationScopedAdmin`: anything else is a
404). Creators and other staff, who hold no `view_clearance` permission, see none.
Nothing is written here: clearances are made and bought through the API or `manage.py
clearance_check`, by the services.

A clearance has up to 100,000 items, so its page shows the first `ITEMS_SHOWN` and
links to the items' own list, paged and filtered to that clearance.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode

from config.admin_mixins import ReadOnlyAdminMixin
from ledger.display import datetime_words, money_from_minor
from licensing.models import Clearance, ClearanceItem, LicenseeOrganization
from licensing.services.creators import user_is_finance

__all__ = ["ClearanceAdmin", "ClearanceItemAdmin"]
ITEMS_SHOWN = 50


def _organizations_seen(request: HttpRequest) -> QuerySet | None:
    """The organisations whose clearances this user sees; None for all of them."""
    user = request.user
    if not (user.is_active and user.is_staff):
        return LicenseeOrganization.objects.none()
    if user_is_finance(user):  # superusers included
        return None
    return LicenseeOrganization.objects.filter(memberships__user=user)


class _ClearanceAccess(ReadOnlyAdminMixin):
    """Viewing is Django's `view_clearance` permission, which the members' and the finance
    groups hold (`services.organizations`, `services.creators`): read from the user's
    permission cache, it costs no query on the pages that only list the portal's models.
    Which rows are seen is decided here."""

    organization_path = "organization"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        seen = _organizations_seen(request)
        if seen is not None:
            queryset = queryset.filter(**{f"{self.organization_path}__in": seen})
        return queryset

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        found = super().get_object(request, object_id, from_field)
        if found is None:
            raise Http404("No such object.")
        return found


def _money(amount: int | None, currency: str) -> str:
    return "" if amount is None else money_from_minor(amount, currency)


@admin.register(Clearance)
class ClearanceAdmin(_ClearanceAccess, admin.ModelAdmin):
    list_display = (
        "public_id",
        "organization",
        "use",
        "status",
        "items_count",
        "licensable_count",
        "reserved_count",
        "quote",
        "expires_on",
        "created_on",
    )
    list_filter = ("status", "use")
    search_fields = ("public_id", "organization__name", "manifest_sha256")
    list_select_related = ("organization",)
    show_full_result_count = False
    fields = (
        "public_id",
        "organization",
        "use",
        "status",
        "quote",
        "quote_works",
        "quote_offers",
        "counts",
        "expires_on",
        "manifest_sha256",
        "quote_digest",
        "payment_intent_id",
        "failure_code",
        "failure_message",
        "purchased_at",
        "licenses",
        "items_listed",
        "created_on",
        "certificate",
    )
    readonly_fields = fields

    @admin.display(description="Quote", ordering="quote_amount")
    def quote(self, clearance: Clearance) -> str:
        return _money(clearance.quote_amount, clearance.currency)

    @admin.display(description="Quote holds until", ordering="expires_at")
    def expires_on(self, clearance: Clearance) -> str:
        return datetime_words(clearance.expires_at)

    @admin.display(description="Created", ordering="created_at")
    def created_on(self, clearance: Clearance) -> str:
        return datetime_words(clearance.created_at)

    @admin.display(description="Items by status")
    def counts(self, clearance: Clearance) -> str:
        return ", ".join(
            f"{status} {getattr(clearance, f'{status}_count'):,}"
            for status in ClearanceItem.Status.values
        )

    @admin.display(description="Licenses bought")
    def licenses(self, clearance: Clearance) -> str:
        bought = (
            ClearanceItem.objects.filter(
                clearance=clearance, status=ClearanceItem.Status.LICENSABLE, license__isnull=False
            )
            .values_list("license_id", "license__public_id")
            .distinct()
            .order_by("license_id")
        )
        links = format_html_join(
            ", ",
            '<a href="{}">{}</a>',
            (
                (reverse("admin:licensing_license_change", args=[pk]), public_id)
                for pk, public_id in bought
            ),
        )
        return links or "none"

    @admin.display(description="Items")
    def items_listed(self, clearance: Clearance) -> str:
        items = (
            ClearanceItem.objects.filter(clearance=clearance)
            .order_by("position")
            .values_list(
                "identifier", "status", "reason", "work__public_id", "offer__public_id", "amount"
            )[:ITEMS_SHOWN]
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    identifier,
                    status,
                    reason,
                    work or "",
                    offer or "",
                    _money(amount, clearance.currency),
                )
                for identifier, status, reason, work, offer, amount in items
            ),
        )
        url = reverse("admin:licensing_clearanceitem_changelist")
        query = urlencode({"clearance__public_id": clearance.public_id})
        return format_html(
            "<table><tr><th>identifier</th><th>status</th><th>reason</th><th>work</th>"
            "<th>offer</th><th>amount</th></tr>{}</table>"
            '<p><a href="{}?{}">All {} items</a> (the first {} are shown here)</p>',
            rows,
            url,
            query,
            f"{clearance.items_count:,}",
            ITEMS_SHOWN,
        )


@admin.register(ClearanceItem)
class ClearanceItemAdmin(_ClearanceAccess, admin.ModelAdmin):
    organization_path = "clearance__organization"
    list_display = ("clearance", "identifier", "status", "reason", "work", "offer", "price")
    list_filter = ("status",)
    search_fields = ("identifier",)
    list_select_related = ("clearance", "work", "offer")
    list_per_page = 100
    show_full_result_count = False
    ordering = ("clearance_id", "position")
    fields = (
        "clearance",
        "position",
        "identifier",
        "status",
        "reason",
        "work",
        "offer",
        "offer_version",
        "price",
        "license",
    )
    readonly_fields = fields

    @admin.display(description="Amount", ordering="amount")
    def price(self, item: ClearanceItem) -> str:
        return _money(item.amount, item.clearance.currency)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The clearance page links here filtered to its own items.
        return lookup == "clearance__public_id" or super().lookup_allowed(lookup, value, request)
