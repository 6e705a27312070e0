"""Reads of declared usage for people: a licensee's events and summary, a creator's usage,
staff's per-licensee report of flagged usage.

Each read of a period filters `occurred_at` on the month's bounds (through
`usage_events_of_period`), so PostgreSQL reads that month's partition only, and sums
in SQL; only a page of events, or one row per group, reaches Python.

A creator sees the usage of every work they own *or co-own*: a co-owner is paid a
share of what the work earns (docs/catalogue.md), the portal's home already lists
the licenses of co-owned works, and a flagged use of a co-owned work is evidence
for them as much as for the owner. They never see another creator's works' usage.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Max, Min, Q, QuerySet, Sum

from licensing.models import (
    Creator,
    License,
    LicenseeOrganization,
    OfferVersion,
    UsageEvent,
    Work,
)
from licensing.selectors.usage import usage_events_of_period

FLAGGED_EVENTS_SHOWN = 50


@dataclass(frozen=True)
class SummaryLine:
    license: str
    work: str
    use: str
    unit: str
    units: int
    amount_decimal: str | None  # per-unit licenses: the rated amount in the minor unit
    currency: str


@dataclass(frozen=True)
class UsageSummary:
    period: str
    lines: list[SummaryLine]
    flagged: dict[str, int]


@dataclass(frozen=True)
class CreatorUsageLine:
    """Usage of one of the creator's works by one licensee, for one use, unit and flag."""

    work: str
    work_title: str
    licensee: str
    licensee_name: str
    use: str
    unit: str
    flag: str | None
    events: int
    units: int
    first_occurred_at: dt.datetime
    last_occurred_at: dt.datetime


@dataclass(frozen=True)
class LicenseeFlaggedUsage:
    """Flagged usage by one licensee of one work, for one flag (staff's report)."""

    licensee: str
    licensee_name: str
    work: str
    work_title: str
    flag: str
    events: int
    units: int
    last_occurred_at: dt.datetime


def decimal_text(value: Decimal) -> str:
    """A decimal as plain digits (no exponent, no trailing zeros): "42", "0.042"."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def organization_usage_events(
    *,
    organization: LicenseeOrganization,
    period: str | None = None,
    license_id: str | None = None,
    work: tuple[str, str] | None = None,
    flag: str | None = None,
) -> QuerySet:
    """The organisation's events, filtered; `work` is a parsed (kind, value) reference."""
    events = usage_events_of_period(period=period) if period else UsageEvent.objects.all()
    events = events.filter(organization=organization)
    if license_id is not None:
        events = events.filter(license__public_id=license_id)
    if work is not None:
        kind, value = work
        events = events.filter(**{f"work__{kind}": value})
    if flag is not None:
        events = events.filter(flag=flag)
    return events.select_related("license", "work").only(
        "id", "event_id", "units", "unit", "occurred_at", "period", "flag", "corrections_count",
        "license__public_id", "work__public_id",
    )  # fmt: skip


def _flag_counts(events: QuerySet) -> dict[str, int]:
    counts = dict.fromkeys(("reserved", "unlicensed", "out_of_term"), 0)
    grouped = events.filter(flag__isnull=False).values("flag").annotate(n=Count("id"))
    for row in grouped.order_by():
        counts[row["flag"]] = row["n"]
    return counts


def summary_rows(*, organization: LicenseeOrganization, period: str) -> QuerySet:
    """The summary's GROUP BY over the period's partition (a queryset: tests EXPLAIN it)."""
    return (
        usage_events_of_period(period=period)
        .filter(organization=organization, flag__isnull=True)
        .values("license_id", "work_id", "use", "unit")
        .annotate(total=Sum("units"))
        .order_by("license_id", "work_id", "use", "unit")
    )


def organization_usage_summary(*, organization: LicenseeOrganization, period: str) -> UsageSummary:
    """Rated units of the period per (license, work, use, unit), and the flagged counts.

    The period's own events as they stand (amended while it was open). Flagged events
    are never rated: they are only counted. `amount_decimal` is units times the
    per-unit price, exact (Decimal); pool and flat lines show units only.
    """
    events = usage_events_of_period(period=period).filter(organization=organization)
    rows = list(summary_rows(organization=organization, period=period))
    licenses = {
        lic.pk: lic
        for lic in License.objects.filter(pk__in={row["license_id"] for row in rows})
        .select_related("offer_version")
        .only(
            "public_id", "currency", "offer_version__pricing", "offer_version__unit_amount_decimal"
        )
    }
    works = dict(
        Work.objects.filter(pk__in={row["work_id"] for row in rows}).values_list("pk", "public_id")
    )
    lines = []
    for row in rows:
        lic = licenses[row["license_id"]]
        version = lic.offer_version
        amount = None
        if version.pricing == OfferVersion.Pricing.PER_UNIT and version.unit_amount_decimal:
            amount = decimal_text(Decimal(row["total"]) * version.unit_amount_decimal)
        lines.append(
            SummaryLine(
                license=lic.public_id, work=works[row["work_id"]], use=row["use"],
                unit=row["unit"], units=int(row["total"]), amount_decimal=amount,
                currency=lic.currency,
            )
        )  # fmt: skip
    return UsageSummary(period=period, lines=lines, flagged=_flag_counts(events))


def creator_works(creator: Creator) -> QuerySet:
    """The ids of the works the creator owns or co-owns (a subquery)."""
    theirs = Work.objects.filter(Q(creator=creator) | Q(shares__creator=creator))
    return theirs.values("pk").distinct()


def creator_usage_lines(*, creator: Creator, period: str) -> list[CreatorUsageLine]:
    """The period's usage of the creator's (co-)owned works per work, licensee, use, flag."""
    return [
        CreatorUsageLine(
            work=row["work__public_id"], work_title=row["work__title"],
            licensee=row["organization__public_id"], licensee_name=row["organization__name"],
            use=row["use"], unit=row["unit"], flag=row["flag"], events=row["events"],
            units=int(row["total"]), first_occurred_at=row["first"], last_occurred_at=row["last"],
        )
        for row in creator_usage_rows(creator=creator, period=period)
    ]  # fmt: skip


def creator_usage_rows(*, creator: Creator, period: str) -> QuerySet:
    """The creator's GROUP BY over the period's partition (a queryset: tests EXPLAIN it)."""
    return (
        usage_events_of_period(period=period)
        .filter(work_id__in=creator_works(creator))
        .values(
            "work__public_id", "work__title", "organization__public_id", "organization__name",
            "use", "unit", "flag",
        )
        .annotate(
            events=Count("id"), total=Sum("units"), first=Min("occurred_at"),
            last=Max("occurred_at"),
        )
        .order_by("work__title", "work__public_id", "organization__name", "use", "unit", "flag")
    )  # fmt: skip


def creator_flagged_events(
    *, creator: Creator, period: str, limit: int = FLAGGED_EVENTS_SHOWN
) -> list[UsageEvent]:
    """The latest flagged events of the creator's (co-)owned works: who, what, when, how much."""
    events = (
        usage_events_of_period(period=period)
        .filter(work_id__in=creator_works(creator), flag__isnull=False)
        .select_related("work", "organization")
        .only(
            "id", "units", "unit", "use", "occurred_at", "flag", "work__public_id", "work__title",
            "organization__public_id", "organization__name",
        )
        .order_by("-occurred_at", "-id")
    )  # fmt: skip
    return list(events[:limit])


def flagged_usage_by_licensee(*, period: str) -> list[LicenseeFlaggedUsage]:
    """The period's flagged usage per licensee, work and flag (staff's report)."""
    rows = (
        usage_events_of_period(period=period)
        .filter(flag__isnull=False)
        .values(
            "organization__public_id", "organization__name", "work__public_id", "work__title",
            "flag",
        )
        .annotate(events=Count("id"), total=Sum("units"), last=Max("occurred_at"))
        .order_by("organization__name", "organization__public_id", "work__title", "flag")
    )  # fmt: skip
    return [
        LicenseeFlaggedUsage(
            licensee=row["organization__public_id"], licensee_name=row["organization__name"],
            work=row["work__public_id"], work_title=row["work__title"], flag=row["flag"],
            events=row["events"], units=int(row["total"]), last_occurred_at=row["last"],
        )
        for row in rows
    ]  # fmt: skip
