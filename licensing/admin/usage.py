"""Usage in the portal: a creator's usage of their works, staff's flagged usage per licensee.

One admin page (the usage events' changelist), two reports, both read-only and both
read through `licensing.selectors.usage_reports` for one month (`?period=YYYY-MM`,
default this month, UTC):

- a creator sees the usage of the works they own or co-own, per work and per
  licensee, and the latest flagged events (which licensee used a reserved or
  unlicensed work, when, how much) — never another creator's works;
- finance staff (and superusers) see the month's flagged usage per licensee, work
  and flag;
- anyone else (a staff user who is neither) is refused (403). No event is ever edited
  here: corrections go through the API, with who and why.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from config.admin_mixins import ReadOnlyAdminMixin
from licensing.admin.scoping import request_creator
from licensing.models import UsageEvent
from licensing.periods import period_of
from licensing.selectors import usage_reports
from licensing.services.creators import user_is_finance
from licensing.services.usage import PERIOD_PATTERN


@dataclass
class WorkTotals:
    title: str
    public_id: str
    use_units: str
    rated_units: int = 0
    flagged_units: int = 0
    flagged_events: int = 0


def _period(request: HttpRequest) -> str:
    period = request.GET.get("period") or ""
    if period and PERIOD_PATTERN.match(period):
        return period
    if period:
        messages.error(request, "A period reads YYYY-MM; showing this month.")
    return period_of(timezone.now())


def _by_work(lines: list[usage_reports.CreatorUsageLine]) -> list[WorkTotals]:
    totals: dict[str, WorkTotals] = {}
    units_seen: dict[str, set[str]] = defaultdict(set)
    for line in lines:
        row = totals.setdefault(line.work, WorkTotals(line.work_title, line.work, ""))
        units_seen[line.work].add(f"{line.use} / {line.unit}")
        if line.flag is None:
            row.rated_units += line.units
        else:
            row.flagged_units += line.units
            row.flagged_events += line.events
    for work, row in totals.items():
        row.use_units = ", ".join(sorted(units_seen[work]))
    return list(totals.values())


@admin.register(UsageEvent)
class UsageReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    def _finance(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_staff and user_is_finance(user))

    def _allowed(self, request: HttpRequest) -> bool:
        return request_creator(request) is not None or self._finance(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request)

    def get_urls(self) -> list:
        # The reports only: no page per event (an event is the licensee's to correct).
        view = self.admin_site.admin_view(self.changelist_view)
        return [path("", view, name=f"{self.opts.app_label}_{self.opts.model_name}_changelist")]

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        period = _period(request)
        context = {**self.admin_site.each_context(request), "opts": self.opts, "period": period}
        creator = request_creator(request)
        if creator is not None:
            lines = usage_reports.creator_usage_lines(creator=creator, period=period)
            context.update(
                title=f"Usage of your works, {period}",
                by_work=_by_work(lines),
                by_licensee=lines,
                flagged_events=usage_reports.creator_flagged_events(creator=creator, period=period),
            )
            return TemplateResponse(request, "licensing/usage_creator.html", context)
        if self._finance(request):
            context.update(
                title=f"Flagged usage per licensee, {period}",
                rows=usage_reports.flagged_usage_by_licensee(period=period),
            )
            return TemplateResponse(request, "licensing/usage_staff.html", context)
        raise PermissionDenied
