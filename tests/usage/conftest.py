"""Fixtures for usage: the licensee side's catalogue, organisations and clients, and a
licensee's declared usage in October and November 2026 (`declared`)."""

import datetime as dt

import pytest

from licensing.services.purchases import license_purchase
from tests.licensing.licensee_fixtures import (  # noqa: F401
    Catalogue,
    card_org,
    catalogue,
    client_for,
    declining_org,
    invoice_org,
)
from tests.usage.test_ingest_api import _event, _post

STARTED = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)
OCTOBER, NOVEMBER = "2026-10-15T12:00:00+00:00", "2026-11-02T08:30:00+00:00"


@pytest.fixture
def declared(catalogue, invoice_org, client_for):  # noqa: F811 (the imported fixtures)
    """Invoice Lab's per-unit license on Solo from October; usage in October and November."""
    per_unit = license_purchase(
        organization=invoice_org,
        offer_id=catalogue.per_unit_offer.public_id,
        work_ids=None,
        at=STARTED,
    )
    client = client_for(invoice_org)
    events = [
        _event("oct-1", per_unit, catalogue.solo_work, units=1_000, occurred_at=OCTOBER),
        _event("oct-2", per_unit, "sha256:" + "a" * 64, units=234, occurred_at=OCTOBER),
        _event("oct-reserved", per_unit, catalogue.reserved_work, units=7, occurred_at=OCTOBER),
        _event("oct-shared", per_unit, catalogue.shared_work, units=5, occurred_at=OCTOBER),
        _event("nov-1", per_unit, catalogue.solo_work, units=50, occurred_at=NOVEMBER),
    ]
    response = _post(client, {"events": events})
    assert response.status_code == 200, response.json()
    corrected = client.post(
        "/api/v1/usage/corrections",
        {"corrections": [{"id": "oct-2", "units": 200, "reason": "double count"}]},
        format="json",
    )
    assert corrected.status_code == 200, corrected.json()
    return per_unit, client
