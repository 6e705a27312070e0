"""A run's lines written by COPY (PostgreSQL) hold exactly what `bulk_create` writes.

`payouts.services.royalty_lines` writes lines by COPY on PostgreSQL for speed
(docs/benchmarks.md, "Royalty runs"); the architecture's rule for hand-written SQL
asks for a test that compares its result with the ORM's.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.rating import ADJUSTMENT, MINIMUM, PER_UNIT, POOL, RatedLine
from payouts.services.royalty_lines import lines_insert
from tests.payouts.royalty_fixtures import buy

pytestmark = pytest.mark.django_db

COLUMNS = [field.attname for field in RoyaltyLine._meta.concrete_fields if field.name != "id"]


def _rated(catalogue, per_unit, pool) -> list[tuple[str, RatedLine]]:
    alice, bob = catalogue.alice.pk, catalogue.bob.pk
    solo, shared = catalogue.solo_work.pk, catalogue.shared_work.pk
    return [
        # The rate as stored (12 places), one with fewer, signed units, a null rate.
        (
            "eur",
            RatedLine(alice, solo, per_unit.pk, PER_UNIT, 7, Decimal("0.042"), 2_940, 294, 2_646),
        ),
        ("eur", RatedLine(alice, solo, per_unit.pk, MINIMUM, 0, None, 10, 1, 9)),
        (
            "eur",
            RatedLine(
                alice, solo, per_unit.pk, ADJUSTMENT, -3, Decimal("0.000000000001"), -1, 0, -1
            ),
        ),
        ("eur", RatedLine(bob, shared, pool.pk, POOL, 2**40, None, 2**50, 2**49, 2**49)),
    ]


def _stored(run) -> list[tuple]:
    rows = run.lines.order_by("id").values_list(*COLUMNS)
    run_column = COLUMNS.index("run_id")
    return [row[:run_column] + row[run_column + 1 :] for row in rows]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="COPY is PostgreSQL's")
def test_copy_writes_what_bulk_create_writes(catalogue, invoice_org, monkeypatch):
    at = datetime(2026, 1, 5, tzinfo=UTC)
    per_unit = buy(monkeypatch, organization=invoice_org, offer=catalogue.per_unit_offer, at=at)
    pool = buy(monkeypatch, organization=invoice_org, offer=catalogue.pool_offer, at=at)
    rated = _rated(catalogue, per_unit, pool)
    by_orm = RoyaltyRun.objects.create(period="2026-01")
    by_copy = RoyaltyRun.objects.create(period="2026-02")

    lines_insert(by_orm, rated, copy=False)
    lines_insert(by_copy, rated, copy=True)

    assert len(_stored(by_copy)) == 4
    assert _stored(by_copy) == _stored(by_orm)


def test_the_default_path_writes_the_lines_in_order(catalogue, invoice_org, monkeypatch):
    at = datetime(2026, 1, 5, tzinfo=UTC)
    per_unit = buy(monkeypatch, organization=invoice_org, offer=catalogue.per_unit_offer, at=at)
    pool = buy(monkeypatch, organization=invoice_org, offer=catalogue.pool_offer, at=at)
    run = RoyaltyRun.objects.create(period="2026-01")

    lines_insert(run, _rated(catalogue, per_unit, pool))

    stored = run.lines.order_by("id")
    assert [(line.kind, line.units, line.rate, line.gross_micros) for line in stored] == [
        (PER_UNIT, 7, Decimal("0.042"), 2_940),
        (MINIMUM, 0, None, 10),
        (ADJUSTMENT, -3, Decimal("0.000000000001"), -1),
        (POOL, 2**40, None, 2**50),
    ]


def test_a_line_written_twice_is_djangos_integrity_error(catalogue, invoice_org, monkeypatch):
    at = datetime(2026, 1, 5, tzinfo=UTC)
    per_unit = buy(monkeypatch, organization=invoice_org, offer=catalogue.per_unit_offer, at=at)
    pool = buy(monkeypatch, organization=invoice_org, offer=catalogue.pool_offer, at=at)
    run = RoyaltyRun.objects.create(period="2026-01")
    rated = _rated(catalogue, per_unit, pool)

    with pytest.raises(IntegrityError), transaction.atomic():
        lines_insert(run, rated + rated[:1])  # the unique (run, creator, work, license, kind)
    assert run.lines.count() == 0
