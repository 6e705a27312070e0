"""Usage periods: calendar months of UTC, written YYYY-MM (API.md's conventions)."""

from __future__ import annotations

import datetime as dt


def period_of(moment: dt.datetime) -> str:
    """Return the period (YYYY-MM, UTC) a moment falls in."""
    utc = moment.astimezone(dt.UTC)
    # Formatted by hand: strftime cost the ingest a third of its Python time per event.
    return f"{utc.year:04d}-{utc.month:02d}"


def period_bounds(period: str) -> tuple[dt.datetime, dt.datetime]:
    """Return the first instant of the period and of the next one, both UTC."""
    year, month = int(period[:4]), int(period[5:7])
    start = dt.datetime(year, month, 1, tzinfo=dt.UTC)
    end = dt.datetime(year + month // 12, month % 12 + 1, 1, tzinfo=dt.UTC)
    return start, end


def period_next(period: str) -> str:
    """Return the period after this one."""
    return period_bounds(period)[1].strftime("%Y-%m")
