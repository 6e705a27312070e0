"""Invoices in the portal: finance sees every one and records payments; members their own.

Finance staff see all invoices, with the card charge's state (attempts, the last
decline, the next try), and two actions that go through the services: "Mark as paid"
(a payment received outside Stripe, posted to the bank against the receivable) and
"Charge the card now" (after the licensee replaced its card). A licensee
organisation's members see their own organisation's invoices, read-only, with no
actions; any other invoice is a 404, as everywhere in the portal.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import Http404, HttpRequest
from django.utils.html import format_html

from config.admin_mixins import ReadOnlyAdminMixin
from config.errors import DomainError
from ledger.display import date_words, datetime_words, money_from_micros, money_from_minor
from licensing.models import LicenseeOrganization
from licensing.services.creators import user_is_finance
from payouts.models import Invoice, InvoiceItem
from payouts.services.invoice_charges import invoice_charge_retry_now
from payouts.services.invoices import invoice_mark_paid
from payouts.tasks import invoice_charge_task

# Members of a licensee organisation hold this permission (licensing's member group):
# Django caches a user's permissions per request, so the menu asks it for free.
MEMBER_PERMISSION = "licensing.view_invoiceline"


def _finance(request: HttpRequest) -> bool:
    """The finance check, asked once per request (every menu entry asks again)."""
    known = getattr(request, "_accord_invoice_finance", None)
    if known is None:
        user = request.user
        known = bool(user.is_active and user.is_staff and user_is_finance(user))
        request._accord_invoice_finance = known
    return known


def _member_organizations(request: HttpRequest) -> QuerySet:
    return LicenseeOrganization.objects.filter(memberships__user=request.user)


class InvoiceItemInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = InvoiceItem
    extra = 0
    fields = ("kind", "description", "license", "units", "amount")
    readonly_fields = fields
    can_delete = False

    @admin.display(description="Amount (exact)")
    def amount(self, item: InvoiceItem) -> str:
        return money_from_micros(item.amount_micros, item.invoice.currency)


@admin.register(Invoice)
class InvoiceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "public_id",
        "organization",
        "period",
        "status",
        "due",
        "billing",
        "charge_state",
        "due_on",
    )
    list_filter = ("status", "billing", "currency", "period")
    search_fields = ("public_id", "organization__name", "organization__slug")
    inlines = [InvoiceItemInline]
    actions = ["mark_paid", "charge_now"]
    fields = (
        "public_id",
        "organization",
        "period",
        "status",
        "billing",
        "total",
        "carried_in",
        "due",
        "due_on",
        "paid_by",
        "paid_at",
        "marked_paid_by",
        "payment_intent_id",
        "payment_reference",
        "charge_attempts",
        "failure_code",
        "failure_message",
        "next_charge_at",
    )
    readonly_fields = fields

    def _visible(self, request: HttpRequest) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return user.has_perm(MEMBER_PERMISSION) or _finance(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._visible(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._visible(request)

    def has_mark_paid_permission(self, request: HttpRequest) -> bool:
        return _finance(request)

    def has_charge_now_permission(self, request: HttpRequest) -> bool:
        return _finance(request)

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request).select_related("organization")
        if _finance(request):
            return queryset
        return queryset.filter(organization__in=_member_organizations(request))

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        invoice = super().get_object(request, object_id, from_field)
        if invoice is None:
            raise Http404("No such invoice.")
        return invoice

    @admin.display(description="Amount due", ordering="amount_due")
    def due(self, invoice: Invoice) -> str:
        return money_from_minor(invoice.amount_due, invoice.currency)

    @admin.display(description="Total of the lines (exact)")
    def total(self, invoice: Invoice) -> str:
        return money_from_micros(invoice.total_micros, invoice.currency)

    @admin.display(description="Brought forward")
    def carried_in(self, invoice: Invoice) -> str:
        return money_from_micros(invoice.carried_in_micros, invoice.currency)

    @admin.display(description="Due", ordering="due_at")
    def due_on(self, invoice: Invoice) -> str:
        return date_words(invoice.due_at)

    @admin.display(description="Card charge")
    def charge_state(self, invoice: Invoice) -> str:
        if invoice.billing != LicenseeOrganization.Billing.CARD or invoice.status != "open":
            return "—"
        if not invoice.failure_code:
            return f"{invoice.charge_attempts} attempts"
        following = (
            f"next try {datetime_words(invoice.next_charge_at)}"
            if invoice.next_charge_at
            else "no more tries: staff must act"
        )
        return format_html(
            "<strong>{}</strong> after {} attempts: {}; {}",
            invoice.failure_code,
            invoice.charge_attempts,
            invoice.failure_message,
            following,
        )

    @admin.action(description="Mark as paid (received outside Stripe)", permissions=["mark_paid"])
    def mark_paid(self, request: HttpRequest, queryset: QuerySet) -> None:
        paid = 0
        for invoice in queryset.order_by("id"):
            try:
                invoice_mark_paid(invoice=invoice, user=request.user, reference="admin")
            except DomainError as refused:
                self.message_user(
                    request, f"{invoice.public_id}: {refused.message}", messages.ERROR
                )
            else:
                paid += 1
        if paid:
            self.message_user(request, f"{paid} invoices marked paid.", messages.SUCCESS)

    @admin.action(description="Charge the card now", permissions=["charge_now"])
    def charge_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        queued = 0
        for invoice in queryset.filter(status="open", billing="card").order_by("id"):
            invoice_charge_retry_now(invoice=invoice)
            invoice_charge_task.delay(invoice.pk)
            queued += 1
        self.message_user(request, f"{queued} card charges queued.", messages.INFO)
