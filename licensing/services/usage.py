"""Writes of declared usage: corrections and closing periods (ingest: `usage_ingest`).

`usage_period_close` is what the royalty run calls once its run is posted: from then
on the period's events are never changed, and corrections of them become adjustments
in the next open period.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models.usage import UsageCorrection, UsageEvent, UsageEventKey, UsagePeriod
from licensing.selectors.usage import usage_period_next_open
from licensing.services.usage_ingest import usage_invalid
from licensing.services.usage_period_locks import usage_periods_lock

PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def period_validate(period: str) -> str:
    """Return the period if it reads YYYY-MM, else raise `parameter_invalid`."""
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID, "A period reads YYYY-MM.", param="period"
        )
    return period


def usage_period_close(*, period: str, at: dt.datetime | None = None) -> UsagePeriod:
    """Mark the period closed; closing it again returns the first closing (idempotent).

    Waits for the ingests and corrections writing into the period (their shared lock),
    so none of them can commit into it once it is closed.
    """
    period_validate(period)
    existing = UsagePeriod.objects.filter(period=period).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            usage_periods_lock(periods=[period], exclusive=True)
            existing = UsagePeriod.objects.filter(period=period).first()
            if existing is not None:
                return existing
            return UsagePeriod.objects.create(period=period, closed_at=at or timezone.now())
    except IntegrityError:
        # A concurrent close won the race: its row is the closing.
        return UsagePeriod.objects.get(period=period)


def _current_units(events: dict[int, UsageEvent]) -> dict[int, int]:
    """Units each event counts for now: as stored, plus its adjustments after close."""
    current = {pk: event.units for pk, event in events.items()}
    adjustments = (
        UsageCorrection.objects.filter(key_id__in=events, kind=UsageCorrection.Kind.ADJUSTMENT)
        .values("key_id")
        .annotate(total=Sum("units_delta"))
    )
    for row in adjustments:
        current[row["key_id"]] += row["total"]
    return current


@transaction.atomic
def usage_correct(
    *, organization: Any, corrections: list, api_key: Any = None, user: Any = None, at=None
) -> tuple[int, int]:
    """Amend (period open, or a flagged event) or adjust (closed) events; return the counts.

    An id the organisation never declared is unknown, whoever else declared it: the
    whole batch is refused and nothing is written.
    """
    at = at or timezone.now()
    ids = {correction.id for correction in corrections}
    keys = {
        key.event_id: key
        for key in UsageEventKey.objects.select_for_update()
        .filter(organization=organization, event_id__in=ids)
        .order_by("id")
    }
    details = [
        {"index": i, "param": "id", "code": "event_unknown", "message": "No such event."}
        for i, correction in enumerate(corrections)
        if correction.id not in keys
    ]
    if details:
        raise usage_invalid(details)
    events = {e.pk: e for e in UsageEvent.objects.filter(pk__in=[k.pk for k in keys.values()])}
    usage_periods_lock(periods=[event.period for event in events.values()])
    current = _current_units(events)
    closed = set(UsagePeriod.objects.values_list("period", flat=True))
    rows, amended_events, counts = [], {}, {"amended": 0, "adjusted": 0}
    for correction in corrections:
        event = events[keys[correction.id].pk]
        before = current[event.pk]
        amend = event.flag is not None or event.period not in closed
        kind = UsageCorrection.Kind.AMENDMENT if amend else UsageCorrection.Kind.ADJUSTMENT
        period = event.period if amend else usage_period_next_open(period=event.period)
        rows.append(
            UsageCorrection(
                key_id=event.pk, organization=organization, license_id=event.license_id,
                work_id=event.work_id, kind=kind, event_period=event.period, period=period,
                units_before=before, units_after=correction.units,
                units_delta=correction.units - before, reason=correction.reason,
                created_by=user, created_by_key=api_key, created_at=at,
            )
        )  # fmt: skip
        if amend:
            event.units = correction.units
            event.corrections_count += 1
            amended_events[event.pk] = event
        current[event.pk] = correction.units
        counts["amended" if amend else "adjusted"] += 1
    UsageCorrection.objects.bulk_create(rows)
    # Only open periods' (or never rated) events change; a closed period's never do.
    UsageEvent.objects.bulk_update(amended_events.values(), ["units", "corrections_count"])
    return counts["amended"], counts["adjusted"]
