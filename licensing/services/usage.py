"""Writes of declared usage: closing periods (ingest and corrections join it).

`usage_period_close` is what the royalty run calls once its run is posted: from then
on the period's events are never changed, and corrections of them become adjustments
in the next open period.
"""

from __future__ import annotations

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from licensing.errors import LicensingError, LicensingErrorCode
from licensing.models.usage import UsagePeriod

PERIOD_PATTERN = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def period_validate(period: str) -> str:
    """Return the period if it reads YYYY-MM, else raise `parameter_invalid`."""
    if not isinstance(period, str) or not PERIOD_PATTERN.match(period):
        raise LicensingError(
            LicensingErrorCode.PARAMETER_INVALID, "A period reads YYYY-MM.", param="period"
        )
    return period


def usage_period_close(*, period: str, at: dt.datetime | None = None) -> UsagePeriod:
    """Mark the period closed; closing it again returns the first closing (idempotent)."""
    period_validate(period)
    existing = UsagePeriod.objects.filter(period=period).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return UsagePeriod.objects.create(period=period, closed_at=at or timezone.now())
    except IntegrityError:
        # A concurrent close won the race: its row is the closing.
        return UsagePeriod.objects.get(period=period)
