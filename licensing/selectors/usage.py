"""Reads of declared usage: what the royalty run rates, and what reports show.

Every read of one period filters `occurred_at` on the period's bounds, so PostgreSQL
reads only that month's partition (a test pins it with EXPLAIN), and sums in SQL
(GROUP BY): events are never loaded into Python.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Sum

from licensing.models.usage import UsageCorrection, UsageEvent, UsagePeriod
from licensing.periods import period_bounds, period_next


@dataclass(frozen=True)
class LicenseWorkUnits:
    """Units of one work under one license in one period (signed for adjustments)."""

    license_id: int
    work_id: int
    units: int


@dataclass(frozen=True)
class FlaggedUsage:
    """Flagged (never rated) usage of one work by one organisation, for one flag."""

    organization_id: int
    work_id: int
    flag: str
    events: int
    units: int


def usage_events_of_period(*, period: str):
    """Return the period's events, filtered so that only its partition is read."""
    start, end = period_bounds(period)
    return UsageEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)


def usage_units_for_period(*, period: str) -> list[LicenseWorkUnits]:
    """Return the rated units of the period's own events, per (license, work).

    Only non-flagged events that occurred in the period, as amended while it was
    open. Corrections made after a period closed are not here: they are adjustments
    in the period they landed in, read with `usage_adjustments_for_period`. A run
    rates both: this period's events plus the adjustments that landed in it.
    """
    # A late event (declared after the period closed) is rated where it was booked, as
    # an adjustment of a later period; a recompute of its own period must not count it.
    late = UsageCorrection.objects.filter(
        kind=UsageCorrection.Kind.LATE, event_period=period
    ).values("key_id")
    rows = (
        usage_events_of_period(period=period)
        .filter(flag__isnull=True)
        .exclude(pk__in=late)
        .values("license_id", "work_id")
        .annotate(total=Sum("units"))
        .filter(total__gt=0)
        .order_by("license_id", "work_id")
        .values_list("license_id", "work_id", "total")
    )
    return [
        LicenseWorkUnits(license_id=lic, work_id=work, units=int(units))
        for lic, work, units in rows
    ]


def usage_adjustments_for_period(*, period: str) -> list[LicenseWorkUnits]:
    """Return the signed units of the adjustments booked in the period, per (license, work).

    Late events (declared after their own period closed) count here too: the period
    they were booked into rates them.
    """
    rows = (
        UsageCorrection.objects.filter(
            kind__in=(UsageCorrection.Kind.ADJUSTMENT, UsageCorrection.Kind.LATE), period=period
        )
        .values("license_id", "work_id")
        .annotate(total=Sum("units_delta"))
        .exclude(total=0)
        .order_by("license_id", "work_id")
        .values_list("license_id", "work_id", "total")
    )
    return [
        LicenseWorkUnits(license_id=lic, work_id=work, units=int(units))
        for lic, work, units in rows
    ]


def usage_flagged_for_period(*, period: str) -> list[FlaggedUsage]:
    """Return the period's flagged usage per (organisation, work, flag)."""
    rows = (
        usage_events_of_period(period=period)
        .filter(flag__isnull=False)
        .values("organization_id", "work_id", "flag")
        .annotate(events=Count("id"), total=Sum("units"))
        .order_by("organization_id", "work_id", "flag")
        .values_list("organization_id", "work_id", "flag", "events", "total")
    )
    return [
        FlaggedUsage(
            organization_id=org, work_id=work, flag=flag, events=events, units=int(units or 0)
        )
        for org, work, flag, events, units in rows
    ]


def usage_period_is_closed(*, period: str) -> bool:
    return UsagePeriod.objects.filter(period=period).exists()


def usage_period_next_open(*, period: str) -> str:
    """Return the first period after this one that is not closed."""
    closed = set(UsagePeriod.objects.filter(period__gt=period).values_list("period", flat=True))
    candidate = period_next(period)
    while candidate in closed:
        candidate = period_next(candidate)
    return candidate
