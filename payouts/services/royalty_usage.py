"""The usage side of a royalty run: the contract `licensing` provides (MONEY.md).

Every read is aggregated in SQL by `licensing.selectors.usage` (GROUP BY license and
work), so a run never loads events into Python. Imported lazily so the payouts app
loads even where the usage app is older than this contract.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from datetime import datetime


def units_by_license(*, period: str) -> dict[int, dict[int, int]]:
    """license id -> work id -> the period's non-flagged units."""
    from licensing.selectors.usage import usage_units_for_period

    return _grouped(usage_units_for_period(period=period))


def adjustments_by_license(*, period: str) -> dict[int, dict[int, int]]:
    """license id -> work id -> signed units of corrections that landed in the period."""
    from licensing.selectors.usage import usage_adjustments_for_period

    return _grouped(usage_adjustments_for_period(period=period))


def flagged_report(*, period: str) -> list[dict]:
    """The period's flagged usage per (organisation, work, flag), as plain JSON rows."""
    from licensing.selectors.usage import usage_flagged_for_period

    return [dataclasses.asdict(row) for row in usage_flagged_for_period(period=period)]


def period_close(*, period: str, at: datetime | None = None) -> None:
    """Close the period's usage: later corrections become adjustments of the next one."""
    from licensing.services.usage import usage_period_close

    usage_period_close(period=period, at=at)


def _grouped(rows) -> dict[int, dict[int, int]]:
    grouped: dict[int, dict[int, int]] = defaultdict(dict)
    for row in rows:
        grouped[row.license_id][row.work_id] = (
            grouped[row.license_id].get(row.work_id, 0) + row.units
        )
    return dict(grouped)
