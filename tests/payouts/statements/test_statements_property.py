"""Property: over random histories of sales, posted runs and payouts, each statement closes
on the creator's payable at the period's end to the micro, opens on the previous
statement's closing, and its lines' nets add up to what it says was earned."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from ledger.models import Account
from ledger.selectors import account_balance
from payouts.selectors.statements import periods_back, statement_for
from tests.payouts.royalty_fixtures import FakeUsage, buy
from tests.payouts.statements.fixtures import payout_posted, run_posted

pytestmark = pytest.mark.django_db

JANUARY = datetime(2026, 1, 1, tzinfo=UTC)
sale_moments = st.integers(0, 58 * 24).map(lambda hours: JANUARY + timedelta(hours=hours))


class Rollback(Exception):
    pass


@settings(
    max_examples=6,
    # A failing history is worth reading as it was generated, not minutes of shrinking.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    flat_sales=st.lists(sale_moments, max_size=3),
    collection_sales=st.lists(sale_moments, max_size=2),
    units=st.lists(st.integers(0, 10**9), min_size=2, max_size=2),
    pool_units=st.tuples(st.integers(0, 10**4), st.integers(0, 10**4)),
    payouts=st.lists(st.integers(1, 50_000), max_size=3),
)
def test_statements_close_on_the_ledger_and_chain(
    catalogue, invoice_org, monkeypatch, flat_sales, collection_sales, units, pool_units, payouts
):
    try:
        with transaction.atomic():
            _example(
                catalogue,
                invoice_org,
                monkeypatch,
                flat_sales,
                collection_sales,
                units,
                pool_units,
                payouts,
            )
            raise Rollback
    except Rollback:
        pass


def _example(
    catalogue, invoice_org, monkeypatch, flat_sales, collection_sales, units, pool_units, payouts
):
    usage = FakeUsage(monkeypatch)
    for at in flat_sales:
        buy(monkeypatch, organization=invoice_org, offer=catalogue.flat_offer, at=at)
    for at in collection_sales:
        buy(
            monkeypatch,
            organization=invoice_org,
            offer=catalogue.collection_flat_offer,
            at=at,
            works=[catalogue.solo_work.public_id, catalogue.shared_work.public_id],
        )
    per_unit = buy(
        monkeypatch, organization=invoice_org, offer=catalogue.per_unit_offer, at=JANUARY
    )
    pool = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.pool_offer,
        at=datetime(2026, 1, 20, tzinfo=UTC),
    )
    for period, declared in zip(("2026-01", "2026-02"), units, strict=True):
        if declared:
            usage.declare(period, per_unit, catalogue.solo_work, declared)
        for work, pooled in zip(
            (catalogue.solo_work, catalogue.shared_work), pool_units, strict=True
        ):
            if pooled:
                usage.declare(period, pool, work, pooled)
        run_posted(period, monkeypatch, username=f"prop-{len(flat_sales)}-{len(payouts)}")
    for amount in payouts:
        payout_posted(catalogue.alice, amount)

    periods = ["2025-12", *[p for p in periods_back(months=36) if p >= "2026-01"]]
    for creator in (catalogue.alice, catalogue.bob):
        payable = Account.objects.filter(code=f"creator:{creator.public_id}:payable:eur").first()
        previous = None
        for period in periods:
            statement = statement_for(creator=creator, period=period, currency="eur")
            owed = -account_balance(payable, as_of=statement.ends_at) if payable else 0
            assert statement.closing_micros == owed, (creator, period)
            assert statement.net_micros == statement.earned_micros, (creator, period)
            assert {line.kind for line in statement.lines} <= {
                "sale",
                "per_unit",
                "pool",
                "minimum",
                "adjustment",
            }
            for line in statement.lines:
                assert line.gross_micros == line.commission_micros + line.net_micros
            if previous is not None:
                assert statement.opening_micros == previous.closing_micros, (creator, period)
            previous = statement
        assert previous.closing_micros == (-account_balance(payable) if payable else 0)
