"""The statements' shared history: a flat sale and a posted per-unit run in January 2026."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.payouts.royalty_fixtures import FakeUsage, buy
from tests.payouts.statements.fixtures import run_posted


@pytest.fixture
def history(catalogue, invoice_org, monkeypatch):
    usage = FakeUsage(monkeypatch)
    # A flat 10.00 EUR license on `shared` in January; a per-unit one on `solo`.
    flat = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.flat_offer,
        at=datetime(2026, 1, 10, tzinfo=UTC),
    )
    per_unit = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    usage.declare("2026-01", per_unit, catalogue.solo_work, 1_000_001)
    run_posted("2026-01", monkeypatch)
    return flat, per_unit
