"""POST /api/v1/usage/corrections: amend while open, adjust in the next open period after close."""

from __future__ import annotations

import pytest

from licensing.models import UsageCorrection, UsageEvent
from licensing.selectors.usage import usage_adjustments_for_period, usage_units_for_period
from licensing.services.purchases import license_purchase
from licensing.services.usage import usage_period_close
from tests.usage.test_ingest_api import _event, _post


@pytest.fixture
def declared(catalogue, invoice_org, client_for):
    per_unit = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    client = client_for(invoice_org)
    assert (
        _post(client, {"events": [_event("e1", per_unit, catalogue.solo_work, units=100)]}).json()[
            "accepted"
        ]
        == 1
    )
    return client, UsageEvent.objects.get()


def _correct(client, *corrections):
    body = {"corrections": [{"id": i, "units": u, "reason": "recount"} for i, u in corrections]}
    return client.post("/api/v1/usage/corrections", body, format="json")


def test_a_correction_while_open_amends_the_event(declared):
    client, event = declared

    response = _correct(client, ("e1", 40))

    assert response.json() == {"object": "usage_correction_receipt", "amended": 1, "adjusted": 0}
    event.refresh_from_db()
    assert event.units == 40
    correction = UsageCorrection.objects.get()
    assert (correction.units_before, correction.units_after, correction.reason) == (
        100,
        40,
        "recount",
    )
    assert correction.created_by_key is not None
    assert usage_units_for_period(period=event.period)[0].units == 40


def test_after_close_the_difference_lands_in_the_next_open_period(declared):
    from licensing.periods import period_next

    client, event = declared
    usage_period_close(period=event.period)
    usage_period_close(period=period_next(event.period))
    landing = period_next(period_next(event.period))

    response = _correct(client, ("e1", 70), ("e1", 0))

    assert response.json()["adjusted"] == 2
    event.refresh_from_db()
    assert event.units == 100  # the closed period's event is never changed
    assert [line.units for line in usage_adjustments_for_period(period=landing)] == [-100]
    assert list(UsageCorrection.objects.values_list("units_before", "units_after", "period")) == [
        (100, 70, landing),
        (70, 0, landing),
    ]


def test_an_unknown_or_other_organisations_event_is_refused_and_nothing_written(
    declared, client_for
):
    from licensing.services.organizations import organization_create

    client, _ = declared
    other = client_for(organization_create(slug="other-lab", billing="invoice"))

    for who, ids in ((client, [("e1", 5), ("nope", 1)]), (other, [("e1", 5)])):
        response = _correct(who, *ids)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "usage_invalid"
    assert UsageCorrection.objects.count() == 0
    assert UsageEvent.objects.get().units == 100
