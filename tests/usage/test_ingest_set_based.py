"""The ingest is set-based: its statements do not grow with the batch, and keys map to events."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from licensing.models import UsageEvent, UsageEventKey
from licensing.services.purchases import license_purchase
from tests.factories import OrganizationFactory
from tests.usage.test_ingest_api import _event, _post


def _batch(prefix, per_unit, catalogue, size):
    works = [
        catalogue.solo_work,
        catalogue.shared_work,
        catalogue.reserved_work,
        "sha256:" + "a" * 64,
    ]
    return [_event(f"{prefix}{i}", per_unit, works[i % len(works)]) for i in range(size)]


def test_the_number_of_statements_does_not_grow_with_the_batch(client_for, catalogue, invoice_org):
    per_unit = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    client = client_for(invoice_org)
    _post(client, {"events": _batch("warm", per_unit, catalogue, 4)})  # partitions, key cache
    counts = []
    for prefix, size in (("small", 8), ("large", 800)):
        with CaptureQueriesContext(connection) as queries:
            response = _post(client, {"events": _batch(prefix, per_unit, catalogue, size)})
        assert response.status_code == 200, response.json()
        counts.append(len(queries))

    assert counts[0] == counts[1], counts
    assert response.json()["flagged"] == {"reserved": 200, "unlicensed": 200, "out_of_term": 0}


def test_every_event_gets_the_id_of_its_own_key_among_other_organisations_keys(
    client_for, catalogue, invoice_org
):
    other_org = OrganizationFactory(slug="other-lab")
    mine = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    theirs = license_purchase(
        organization=other_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    # Interleaved batches, some ids shared between organisations, some repeated.
    for round_ in range(3):
        events = [
            _event(f"e{round_}-{i}", mine, catalogue.solo_work, units=i + 1) for i in range(50)
        ]
        _post(client_for(invoice_org), {"events": events + events[:5]})
        others = [_event(f"e{round_}-{i}", theirs, catalogue.solo_work, units=1) for i in range(30)]
        _post(client_for(other_org), {"events": others})

    keys = {key.pk: key for key in UsageEventKey.objects.all()}
    events = list(UsageEvent.objects.all())
    assert len(events) == len(keys) == 3 * 50 + 3 * 30
    for event in events:
        key = keys[event.pk]
        assert (key.organization_id, key.event_id) == (event.organization_id, event.event_id)
    mine_units = UsageEvent.objects.filter(organization=invoice_org).values_list("units", flat=True)
    assert sum(mine_units) == 3 * sum(range(1, 51))
