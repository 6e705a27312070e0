"""Finance screens: batches with totals and a chart, items by status, retries, holds,
CSV export, the latest reconciliation. Every change goes through a service."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from config.errors import DomainError
from ledger.display import money_from_minor
from payouts.admin.common import FinanceOnlyAdmin
from payouts.api.payout_batches import csv_lines
from payouts.models import CreatorHold, PayoutBatch, PayoutItem, Reconciliation
from payouts.selectors.payout_batches import batch_progress, batches_progress
from payouts.services import creator_holds
from payouts.services import payout_batches as services
from payouts.services.reconciliation import reconciliation_run_for_yesterday

CHART_BATCHES_MAX = 20
CHART_WIDTH_PX = 400


def _progress_table(batch: PayoutBatch) -> str:
    progress = batch_progress(batch=batch)
    return format_html(
        "<table><tr><th>status</th><th>items</th><th>amount</th></tr>{}</table>",
        format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (s, progress.counts[s], money_from_minor(progress.amounts[s], batch.currency))
                for s in PayoutItem.Status.values
            ),
        ),
    )


@admin.register(PayoutBatch)
class PayoutBatchAdmin(FinanceOnlyAdmin, admin.ModelAdmin):
    list_display = [
        "public_id",
        "currency",
        "status",
        "items_count",
        "total_shown",
        "paid",
        "failed",
    ]
    list_filter = ["status", "currency"]
    search_fields = ["public_id"]
    readonly_fields = [
        "public_id",
        "currency",
        "status",
        "items_count",
        "total_shown",
        "progress",
        "skipped",
        "created_at",
        "dispatched_at",
        "completed_at",
        "links",
    ]
    fields = readonly_fields
    actions = ["approve", "dispatch"]
    change_list_template = "admin/payouts/payoutbatch/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).prefetch_related("approvals")

    def _progress(self, batch: PayoutBatch) -> Any:
        cache = getattr(self, "_progress_cache", {})
        if batch.pk not in cache:
            cache = self._progress_cache = batches_progress(batch_ids=[batch.pk])
        return cache[batch.pk]

    @admin.display(description="total", ordering="total")
    def total_shown(self, batch: PayoutBatch) -> str:
        return money_from_minor(batch.total, batch.currency)

    @admin.display(description="paid")
    def paid(self, batch: PayoutBatch) -> int:
        return self._progress(batch).counts["paid"]

    @admin.display(description="failed")
    def failed(self, batch: PayoutBatch) -> int:
        return self._progress(batch).counts["failed"]

    @admin.display(description="items by status (live)")
    def progress(self, batch: PayoutBatch) -> str:
        return _progress_table(batch)

    @admin.display(description="")
    def links(self, batch: PayoutBatch) -> str:
        items = reverse("admin:payouts_payoutitem_changelist") + f"?batch__id__exact={batch.pk}"
        csv_url = reverse("admin:payouts_payoutbatch_csv", args=[batch.pk])
        return format_html('<a href="{}">items</a> · <a href="{}">export CSV</a>', items, csv_url)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        batches = list(PayoutBatch.objects.order_by("-id")[:CHART_BATCHES_MAX])
        progress = batches_progress(batch_ids=[b.pk for b in batches])
        self._progress_cache = progress
        largest = max([b.total for b in batches] + [1])
        bars = [
            {
                "label": f"{b.public_id} {b.currency}",
                "paid_px": progress[b.pk].amounts["paid"] * CHART_WIDTH_PX // largest,
                "open_px": (b.total - progress[b.pk].amounts["paid"]) * CHART_WIDTH_PX // largest,
                "total": money_from_minor(b.total, b.currency),
                "paid": money_from_minor(progress[b.pk].amounts["paid"], b.currency),
                "width_px": CHART_WIDTH_PX,
            }
            for b in reversed(batches)
        ]
        totals: dict[str, int] = {}
        for batch in PayoutBatch.objects.all().only("currency", "total"):
            totals[batch.currency] = totals.get(batch.currency, 0) + batch.total
        shown = [money_from_minor(total, currency) for currency, total in totals.items()]
        extra_context = {**(extra_context or {}), "chart_bars": bars, "totals": shown}
        return super().changelist_view(request, extra_context)

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.csv_view)
        return [
            path("<int:batch_id>/items.csv", view, name="payouts_payoutbatch_csv"),
            *super().get_urls(),
        ]

    def csv_view(self, request: HttpRequest, batch_id: int) -> HttpResponse:
        if not self._finance(request):
            return HttpResponse(status=404)
        batch = get_object_or_404(PayoutBatch, pk=batch_id)
        response = StreamingHttpResponse(csv_lines(batch), content_type="text/csv")
        response["Content-Disposition"] = f'attachment; filename="{batch.public_id}-items.csv"'
        return response

    def _each(self, request: HttpRequest, queryset: QuerySet, action: Any, verb: str) -> None:
        for batch in queryset:
            try:
                action(batch)
            except DomainError as error:
                self.message_user(request, f"{batch.public_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{batch.public_id} {verb}.")

    @admin.action(description="Approve the selected batches")
    def approve(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request,
            queryset,
            lambda b: services.payout_batch_approve(batch=b, user=request.user),
            "approved",
        )

    @admin.action(description="Dispatch the selected batches")
    def dispatch(self, request: HttpRequest, queryset: QuerySet) -> None:
        self._each(
            request, queryset, lambda b: services.payout_batch_dispatch(batch=b), "dispatching"
        )


@admin.register(PayoutItem)
class PayoutItemAdmin(FinanceOnlyAdmin, admin.ModelAdmin):
    list_display = [
        "public_id",
        "batch",
        "creator",
        "amount_shown",
        "currency",
        "status",
        "transfer_id",
        "failure_code",
        "attempts",
    ]
    list_filter = ["status", "currency", "batch"]
    list_select_related = ["batch", "creator"]
    search_fields = ["public_id", "creator__public_id", "creator__display_name", "transfer_id"]
    actions = ["retry"]

    @admin.display(description="amount", ordering="amount")
    def amount_shown(self, item: PayoutItem) -> str:
        return money_from_minor(item.amount, item.currency)

    @admin.action(description="Retry the selected failed items")
    def retry(self, request: HttpRequest, queryset: QuerySet) -> None:
        for item in queryset:
            try:
                services.payout_item_retry(item=item)
            except DomainError as error:
                self.message_user(request, f"{item.public_id}: {error.message}", messages.ERROR)
            else:
                self.message_user(request, f"{item.public_id} sent again.")


class CreatorHoldForm(forms.ModelForm):
    class Meta:
        model = CreatorHold
        fields = ["creator", "reason"]


@admin.register(CreatorHold)
class CreatorHoldAdmin(FinanceOnlyAdmin, admin.ModelAdmin):
    """Hold a creator (add) and release them (delete), through the services."""

    form = CreatorHoldForm
    list_display = ["creator", "reason", "held_by", "created_at"]
    autocomplete_fields = ["creator"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._finance(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._finance(request)

    def save_model(self, request: HttpRequest, obj: CreatorHold, form: Any, change: bool) -> None:
        saved = creator_holds.creator_hold(
            creator=form.cleaned_data["creator"],
            reason=form.cleaned_data["reason"],
            user=request.user,
        )
        obj.pk = saved.pk

    def delete_model(self, request: HttpRequest, obj: CreatorHold) -> None:
        creator_holds.creator_release(creator=obj.creator)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for hold in queryset:
            creator_holds.creator_release(creator=hold.creator)


def _difference_amount(difference: dict) -> str:
    amount, currency = difference.get("amount"), difference.get("currency")
    if isinstance(amount, int) and currency:
        return money_from_minor(amount, currency)
    return f"{amount} {currency or ''}".strip()  # as recorded, when it is not minor units


@admin.register(Reconciliation)
class ReconciliationAdmin(FinanceOnlyAdmin, admin.ModelAdmin):
    list_display = ["date", "matched", "difference_count", "ran_at"]
    readonly_fields = ["date", "matched", "differences_table", "ran_at"]
    fields = readonly_fields
    actions = ["run_yesterday"]

    @admin.display(description="differences")
    def difference_count(self, row: Reconciliation) -> str:
        count = len(row.differences)
        return format_html("<strong>{}</strong>", count) if count else "0"

    @admin.display(description="differences")
    def differences_table(self, row: Reconciliation) -> str:
        if not row.differences:
            return "none"
        return format_html(
            "<table><tr><th>kind</th><th>ledger</th><th>Stripe</th><th>amount</th></tr>{}</table>",
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                (
                    (d["kind"], d["ledger"], d["stripe"], _difference_amount(d))
                    for d in row.differences
                ),
            ),
        )

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        latest = Reconciliation.objects.first()
        if latest is not None and latest.differences:
            self.message_user(
                request,
                f"The latest reconciliation ({latest.date}) found "
                f"{len(latest.differences)} differences.",
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)

    @admin.action(description="Reconcile yesterday now")
    def run_yesterday(self, request: HttpRequest, queryset: QuerySet) -> Any:
        row = reconciliation_run_for_yesterday()
        self.message_user(request, f"{row.date}: {len(row.differences)} differences.")
        return redirect(reverse("admin:payouts_reconciliation_changelist"))
