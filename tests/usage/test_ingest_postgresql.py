"""On PostgreSQL: concurrent batches with the same ids count once; a month reads one partition."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from licensing.models import UsageEvent, UsageEventKey
from licensing.selectors.usage import usage_events_of_period
from licensing.services.purchases import license_purchase
from tests.usage.test_ingest_api import _event, _post

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="concurrency and partitions need PostgreSQL"
)


@pytest.mark.django_db(transaction=True)
def test_the_same_ids_in_concurrent_requests_are_counted_once(catalogue, invoice_org, client_for):
    per_unit = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    events = [_event(f"c{i}", per_unit, catalogue.solo_work) for i in range(2_000)]
    clients = [client_for(invoice_org) for _ in range(4)]
    receipts, barrier = [], threading.Barrier(len(clients))

    def send(client):
        barrier.wait()
        try:
            receipts.append(_post(client, {"events": events}).json())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(receipt["accepted"] for receipt in receipts) == 2_000, receipts
    assert sum(receipt["duplicates"] for receipt in receipts) == 3 * 2_000
    assert UsageEvent.objects.count() == UsageEventKey.objects.count() == 2_000


def test_an_event_whose_month_has_no_partition_yet_is_stored(client_for, catalogue, invoice_org):
    from licensing.services.usage_partitions import partition_name

    per_unit = license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", [partition_name("2001-01")])
        assert cursor.fetchone()[0] is None
    response = _post(
        client_for(invoice_org),
        {
            "events": [
                _event("old", per_unit, catalogue.solo_work, occurred_at="2001-01-15T00:00:00Z")
            ]
        },
    )

    assert "accepted" in response.json(), response.json()
    assert response.json()["accepted"] == 1
    assert UsageEvent.objects.get().period == "2001-01"


def test_a_months_read_touches_only_its_partition(client_for, catalogue, invoice_org):
    from licensing.services.usage_partitions import partition_name, usage_partitions_ensure

    usage_partitions_ensure(periods=["2026-09", "2026-10", "2026-11"])
    query = (
        usage_events_of_period(period="2026-10")
        .values("license_id")
        .annotate(units=__import__("django.db.models", fromlist=["Sum"]).Sum("units"))
    )
    plan = query.explain()

    assert partition_name("2026-10") in plan
    assert partition_name("2026-09") not in plan
    assert partition_name("2026-11") not in plan
