"""The events' references without database FK constraints: locked by the ingest, protected.

The events table has no FK constraints (their checks cost four lookups and locks per
event at commit, docs/usage.md "Performance"); the ingest takes the same locks once
per referenced row, and Django's PROTECT still refuses deleting what usage refers to.
"""

from __future__ import annotations

import json

import psycopg
import pytest
from django.db import connection, transaction
from django.db.models import ProtectedError

from licensing.api import usage_decode
from licensing.services.purchases import license_purchase
from licensing.services.usage_ingest import usage_ingest
from tests.usage.test_ingest_api import _event, _post

postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks and plans are PostgreSQL's"
)


@pytest.fixture
def per_unit(catalogue, invoice_org):
    return license_purchase(
        organization=invoice_org, offer_id=catalogue.per_unit_offer.public_id, work_ids=None
    )


def test_a_work_license_or_organisation_with_usage_cannot_be_deleted(
    client_for, catalogue, invoice_org, per_unit
):
    events = [_event("e1", per_unit, catalogue.shared_work)]  # no license covers it: flagged
    assert _post(client_for(invoice_org), {"events": events}).status_code == 200

    for referenced in (catalogue.shared_work, per_unit, invoice_org):
        with pytest.raises(ProtectedError):
            referenced.delete()


def _other_session():
    settings = connection.settings_dict
    return psycopg.connect(
        dbname=settings["NAME"],
        user=settings["USER"],
        host=settings["HOST"],
        port=settings["PORT"] or 5432,
        autocommit=True,
    )


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_batch_locks_the_rows_it_refers_to_until_it_commits(
    client_for, catalogue, invoice_org, per_unit
):
    body = _event("e1", per_unit, catalogue.solo_work)
    items = usage_decode.batch_items(f'{{"events": [{json.dumps(body)}]}}'.encode(), key="events")
    events, details = usage_decode.events_decode(items, nul_check=False)
    assert not details
    lock = "SELECT 1 FROM {} WHERE id = %s FOR UPDATE NOWAIT"  # as a DELETE would lock
    with _other_session() as other, transaction.atomic():
        usage_ingest(organization=invoice_org, events=events)  # not committed yet
        for table, row in (
            ("licensing_work", catalogue.solo_work.pk),
            ("licensing_license", per_unit.pk),
            ("licensing_licenseeorganization", invoice_org.pk),
        ):
            with pytest.raises(psycopg.errors.LockNotAvailable):
                other.execute(lock.format(table), [row])
        # A work the batch does not name is not locked.
        assert other.execute(
            lock.format("licensing_work"), [catalogue.shared_work.pk]
        ).fetchall() == [(1,)]


@postgresql_only
def test_the_dedup_statement_writes_through_the_unique_index_and_scans_no_stored_rows(
    client_for, catalogue, invoice_org, per_unit
):
    """Its cost must not grow with what is stored: no scan of the keys or events."""
    _post(client_for(invoice_org), {"events": [_event("old", per_unit, catalogue.solo_work)]})
    statements = []

    def capture(execute, sql, params, many, context):
        if sql.lstrip().startswith("WITH keys AS"):
            statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        response = _post(
            client_for(invoice_org),
            {"events": [_event(f"e{i}", per_unit, catalogue.solo_work) for i in range(50)]},
        )
    assert response.status_code == 200
    ((sql, params),) = statements
    with connection.cursor() as cursor:
        # The tables as the planner would see them after millions of events.
        cursor.execute(
            "UPDATE pg_class SET reltuples = 10000000, relpages = 100000"
            " WHERE relname LIKE 'licensing\\_usageevent%%'"
        )
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "Conflict Arbiter Indexes: usage_event_id_once_per_organization" in plan, plan
    assert "Scan on licensing_usageevent" not in plan, plan
