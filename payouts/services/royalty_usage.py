"""The usage side of a royalty run: the contract `licensing` provides (MONEY.md).

Every read is aggregated in SQL by `licensing.selectors.usage` (GROUP BY license and
work), so a run never loads events into Python. Tests stand in for these four functions
when they want exact aggregates without storing events.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime

from licensing.selectors.usage import (
    usage_adjustments_for_period,
    usage_flagged_for_period,
    usage_units_for_period,
)
from licensing.services.usage import usage_period_close


def units_by_license(*, period: str) -> dict[int, dict[int, int]]:
    """license id -> work id -> the period's non-flagged units."""
    return _grouped(usage_units_for_period(period=period))


def adjustments_by_license(*, period: str) -> dict[int, dict[int, int]]:
    """license id -> work id -> signed units of corrections that landed in the period."""
    return _grouped(usage_adjustments_for_period(period=period))


def flagged_report(*, period: str) -> list[dict]:
    """The period's flagged usage per (organisation, work, flag), as plain JSON rows."""
    return [dataclasses.asdict(row) for row in usage_flagged_for_period(period=period)]


def period_close(*, period: str, at: datetime | None = None) -> None:
    """Close the period's usage: later corrections become adjustments of the next one."""
    usage_period_close(period=period, at=at)


def _grouped(rows) -> dict[int, dict[int, int]]:
    grouped: dict[int, dict[int, int]] = defaultdict(dict)
    for row in rows:
        grouped[row.license_id][row.work_id] = (
            grouped[row.license_id].get(row.work_id, 0) + row.units
        )
    return dict(grouped)
