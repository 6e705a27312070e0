"""Finance's royalty-run screens: start a run, watch it, preview, approve, download.

Only finance users (or superusers) see them. The list shows progress (licenses
posted of total); a run's page previews its lines per creator with the difference
from the previous period's posted run; actions approve (through the same service as
the API, so four eyes and every refusal apply) and download the lines as CSV.
"""

from __future__ import annotations

import csv

from django import forms
from django.contrib import admin, messages
from django.db.models import Sum
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from config.errors import DomainError
from ledger.money import micros_minor_decimal
from licensing.services.creators import user_is_finance
from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_start


class RunStartForm(forms.Form):
    period = forms.CharField(max_length=7, help_text="YYYY-MM, a month that is over.")


def previous_period(period: str) -> str:
    year, month = (int(part) for part in period.split("-"))
    year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return f"{year:04d}-{month:02d}"


def creator_totals(run: RoyaltyRun | None) -> dict[tuple[str, str], int]:
    """(creator public id, currency) -> net micros of a run's lines."""
    if run is None:
        return {}
    rows = run.lines.values("creator__public_id", "currency").annotate(net=Sum("net_micros"))
    return {(row["creator__public_id"], row["currency"]): row["net"] for row in rows}


def preview_rows(run: RoyaltyRun) -> list[dict]:
    """Per creator: this run's net, the previous period's posted net, the difference."""
    previous = RoyaltyRun.objects.filter(
        period=previous_period(run.period), status=RoyaltyRun.Status.POSTED
    ).first()
    now, before = creator_totals(run), creator_totals(previous)
    rows = []
    for creator, currency in sorted(set(now) | set(before)):
        current, earlier = now.get((creator, currency), 0), before.get((creator, currency), 0)
        rows.append(
            {
                "creator": creator,
                "currency": currency,
                "net": micros_minor_decimal(current, currency),
                "previous": micros_minor_decimal(earlier, currency),
                "difference": micros_minor_decimal(current - earlier, currency),
            }
        )
    return rows


def lines_csv(run: RoyaltyRun) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{run.public_id}-{run.period}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "creator",
            "work",
            "license",
            "kind",
            "units",
            "unit_amount_decimal",
            "gross_decimal",
            "commission_decimal",
            "net_decimal",
            "currency",
        ]
    )
    lines = run.lines.select_related("creator", "work", "license").order_by("id")
    for line in lines.iterator(chunk_size=2_000):
        writer.writerow(
            [
                line.creator.public_id,
                line.work.public_id,
                line.license.public_id,
                line.kind,
                line.units,
                "" if line.rate is None else format(line.rate.normalize(), "f"),
                micros_minor_decimal(line.gross_micros, line.currency),
                micros_minor_decimal(line.commission_micros, line.currency),
                micros_minor_decimal(line.net_micros, line.currency),
                line.currency,
            ]
        )
    return response


@admin.register(RoyaltyRun)
class RoyaltyRunAdmin(admin.ModelAdmin):
    list_display = ("public_id", "period", "status", "progress", "created_at", "posted_at")
    list_filter = ("status",)
    readonly_fields = [field.name for field in RoyaltyRun._meta.fields]
    actions = ["approve", "download_csv"]
    change_list_template = "payouts/royalty_run_change_list.html"

    def _finance(self, request) -> bool:
        return bool(request.user.is_active and user_is_finance(request.user))

    def has_module_permission(self, request) -> bool:
        return self._finance(request)

    def has_view_permission(self, request, obj=None) -> bool:
        return self._finance(request)

    def has_change_permission(self, request, obj=None) -> bool:
        return self._finance(request)  # for the actions; every field is read-only

    def has_add_permission(self, request) -> bool:
        return False  # runs start through the start view (the service), never a form

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="progress")
    def progress(self, run: RoyaltyRun) -> str:
        return f"{run.licenses_posted}/{run.licenses_total}"

    def get_urls(self):
        return [
            path("start/", self.admin_site.admin_view(self.start_view), name="royalty-run-start"),
            path(
                "<int:run_pk>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="royalty-run-preview",
            ),
            *super().get_urls(),
        ]

    def start_view(self, request):
        if not self._finance(request):
            return HttpResponse(status=404)
        form = RunStartForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run = royalty_run_start(period=form.cleaned_data["period"], user=request.user)
            except DomainError as error:
                form.add_error("period", f"{error.code}: {error.message}")
            else:
                messages.success(request, f"Run {run.public_id} for {run.period} started.")
                return HttpResponseRedirect(reverse("admin:royalty-run-preview", args=[run.pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": "Start a royalty run",
        }
        return TemplateResponse(request, "payouts/royalty_run_start.html", context)

    def preview_view(self, request, run_pk: int):
        run = RoyaltyRun.objects.filter(pk=run_pk).first()
        if run is None or not self._finance(request):
            return HttpResponse(status=404)
        if request.GET.get("format") == "csv":
            return lines_csv(run)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Royalty run {run.period}",
            "run": run,
            "rows": preview_rows(run),
            "lines": run.lines.select_related("creator", "work", "license")[:200],
        }
        return TemplateResponse(request, "payouts/royalty_run_preview.html", context)

    @admin.action(description="Approve the selected runs")
    def approve(self, request, queryset):
        for run in queryset:
            try:
                royalty_run_approve(run=run, user=request.user)
            except DomainError as error:
                self.message_user(request, f"{run.public_id}: {error.code}", messages.ERROR)
            else:
                self.message_user(request, f"{run.public_id}: approval recorded")

    @admin.action(description="Download the lines as CSV")
    def download_csv(self, request, queryset):
        return lines_csv(queryset.first())


_ = RoyaltyLine  # lines are shown inside their run's preview, not as a list of their own
