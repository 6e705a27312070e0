"""Helpers for royalty-run tests: backdated purchases and a stand-in usage source.

`FakeUsage` replaces the usage contract's reads (`payouts.services.royalty_usage`)
where a test wants exact aggregates without ingesting events; tests that go through
real usage ingest use the licensing services instead.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from licensing.services.purchases import license_purchase
from payouts.services import royalty_usage


def buy(monkeypatch, *, organization, offer, at: datetime, works=None):
    """Buy a license on `at` (business time), duplicates allowed (several per test)."""
    return license_purchase(
        organization=organization,
        offer_id=offer.public_id,
        work_ids=works,
        at=at,
        allow_duplicate=True,
    )


class FakeUsage:
    """period -> license id -> work id -> units, and the periods closed."""

    def __init__(self, monkeypatch) -> None:
        self.units: dict[str, dict[int, dict[int, int]]] = defaultdict(dict)
        self.adjustments: dict[str, dict[int, dict[int, int]]] = defaultdict(dict)
        self.closed: list[str] = []
        monkeypatch.setattr(royalty_usage, "units_by_license", self._units)
        monkeypatch.setattr(royalty_usage, "adjustments_by_license", self._adjustments)
        monkeypatch.setattr(royalty_usage, "flagged_report", lambda *, period: [])
        monkeypatch.setattr(royalty_usage, "period_close", self._close)

    def declare(self, period: str, license, work, units: int) -> None:
        per_license = self.units[period].setdefault(license.pk, {})
        per_license[work.pk] = per_license.get(work.pk, 0) + units

    def adjust(self, period: str, license, work, units: int) -> None:
        per_license = self.adjustments[period].setdefault(license.pk, {})
        per_license[work.pk] = per_license.get(work.pk, 0) + units

    def _units(self, *, period):
        return self.units.get(period, {})

    def _adjustments(self, *, period):
        return self.adjustments.get(period, {})

    def _close(self, *, period, at=None):
        if period not in self.closed:  # closing is idempotent, as the real one is
            self.closed.append(period)
