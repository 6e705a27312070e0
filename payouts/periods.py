"""Royalty periods: `YYYY-MM`, a calendar month in UTC, and the window it spans."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.utils import timezone

from payouts.errors import PayoutError, PayoutErrorCode

_PERIOD = re.compile(r"\A(\d{4})-(0[1-9]|1[0-2])\Z")


def period_window(period: object) -> tuple[datetime, datetime]:
    """The [first instant, first instant of the next month) of a period; 400 if malformed."""
    match = _PERIOD.match(period) if isinstance(period, str) else None
    if match is None or int(match.group(1)) < 2000:
        raise PayoutError(
            PayoutErrorCode.PERIOD_INVALID,
            "period must be YYYY-MM (2000 or later).",
            param="period",
        )
    year, month = int(match.group(1)), int(match.group(2))
    start = datetime(year, month, 1, tzinfo=UTC)
    end = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=UTC)
    return start, end


def period_over_window(period: object, *, at: datetime | None = None) -> tuple[datetime, datetime]:
    """The window of a period that is over at `at` (Django's clock); 422 `period_open` if not."""
    window = period_window(period)
    if window[1] > (at or timezone.now()):
        raise PayoutError(PayoutErrorCode.PERIOD_OPEN, f"{period} is not over yet.", param="period")
    return window
