"""Creator statements on the real catalogue and ledger (tests/licensing/licensee_fixtures.py).

alice owns `solo`; `shared` is alice 6,667 bp and bob 3,333 bp. Commission 10 %.
EUR: a cent is 10,000 micros.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ledger.selectors import account_balance, account_get
from payouts.errors import PayoutError
from payouts.selectors.statements import statement_for, statement_get
from tests.payouts.royalty_fixtures import buy
from tests.payouts.statements.fixtures import payout_posted

pytestmark = pytest.mark.django_db


def payable(creator) -> int:
    return -account_balance(account_get(code=f"creator:{creator.public_id}:payable:eur"))


def test_statement_shows_sales_and_runs_and_closes_on_the_payable(catalogue, history):
    alice = catalogue.alice

    statement = statement_for(creator=alice, period="2026-01", currency="eur")

    assert statement.status == "final"
    assert statement.opening_micros == 0
    # Sale: 10.00 -> commission 1.00, owners 9.00; alice 6,667 bp: 6.0003 net, 0.6667 commission.
    # Run: 1,000,001 tokens x 0.042 cent = 42,000.042 cents gross, 10 % commission.
    run_net = 378_000_378
    assert [(line.kind, line.work_id, line.net_micros) for line in statement.lines] == [
        ("sale", catalogue.shared_work.public_id, 6_000_300),
        ("per_unit", catalogue.solo_work.public_id, run_net),
    ]
    sale, run = statement.lines
    assert (sale.gross_micros, sale.commission_micros, sale.units) == (6_667_000, 666_700, 1)
    assert sale.unit_amount_decimal == Decimal(1000)
    assert sale.licensee_name == "Invoice Lab"
    assert sale.use == "ai-train"
    assert (run.gross_micros, run.commission_micros, run.units) == (
        420_000_420,
        42_000_042,
        1_000_001,
    )
    assert statement.earned_micros == 6_000_300 + run_net
    assert statement.paid_micros == 0
    assert statement.closing_micros == payable(alice) == 6_000_300 + run_net
    assert statement.commission_basis_points == 1000


def test_next_period_opens_on_the_previous_closing_and_counts_payouts(catalogue, history):
    alice = catalogue.alice
    january = statement_for(creator=alice, period="2026-01", currency="eur")
    payout_posted(alice, 30_000)  # effective now

    now = datetime.now(UTC)
    current = f"{now:%Y-%m}"
    february = statement_for(creator=alice, period="2026-02", currency="eur")
    this_month = statement_for(creator=alice, period=current, currency="eur")

    assert february.opening_micros == february.closing_micros == january.closing_micros
    assert february.lines == ()
    assert february.status == "open"
    assert this_month.paid_micros == 300_000_000
    assert this_month.closing_micros == payable(alice) == january.closing_micros - 300_000_000


def test_statement_ids_are_the_creators_own(catalogue, history):
    alice, bob = catalogue.alice, catalogue.bob
    mine = statement_for(creator=alice, period="2026-01", currency="eur")

    assert statement_get(creator=alice, statement_public_id=mine.id).closing_micros == (
        mine.closing_micros
    )
    for wrong in (
        mine.id.replace(alice.public_id, bob.public_id),
        mine.id + "x",
        mine.id.replace("2026-01", "2026-13"),
        mine.id.replace("_eur", "_usd"),
        "stm_",
        "",
    ):
        with pytest.raises(PayoutError) as refused:
            statement_get(creator=alice, statement_public_id=wrong)
        assert refused.value.code == "statement_not_found"
    # bob's own id for the same period is his, and shows his share only.
    bobs = statement_get(
        creator=bob, statement_public_id=mine.id.replace(alice.public_id, bob.public_id)
    )
    assert [line.net_micros for line in bobs.lines] == [2_999_700]


def test_malformed_period_is_refused(catalogue):
    with pytest.raises(PayoutError) as refused:
        statement_for(creator=catalogue.alice, period="2026-1", currency="eur")
    assert refused.value.code == "period_invalid"


def test_statement_queries_do_not_grow_with_its_lines(catalogue, history, invoice_org, monkeypatch):
    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            statement_for(creator=catalogue.alice, period="2026-01", currency="eur")
        return len(captured)

    before = count()
    for day in (11, 12, 13):
        buy(
            monkeypatch,
            organization=invoice_org,
            offer=catalogue.flat_offer,
            at=datetime(2026, 1, day, tzinfo=UTC),
        )

    assert len(statement_for(creator=catalogue.alice, period="2026-01", currency="eur").lines) == 5
    assert count() == before <= 12
