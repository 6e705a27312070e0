"""The demo's statement step: the demo creator's statement of the month the demo's run posted.

One step of `payouts.demo.DEMO_JOB_STEPS`, after the royalty and payout steps. It
writes nothing (a statement is a read of the books); it checks that the statement
closes on the creator's payable and prints where to read it, so `make demo` ends with
the statement's address, its PDF and the earnings chart.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from ledger.display import money_from_micros
from ledger.selectors import account_balance
from payouts.models import RoyaltyLine, RoyaltyRun
from payouts.selectors.statements import creator_payables, statement_for

PORTAL = "http://127.0.0.1:8000/admin"


def _last_month(today: date) -> str:
    index = today.year * 12 + today.month - 2
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def demo_statements_run() -> str:
    """Summarise the demo creator's statement of last month; returns one line."""
    period = _last_month(timezone.now().date())
    line = (
        RoyaltyLine.objects.filter(run__period=period, run__status=RoyaltyRun.Status.POSTED)
        .select_related("creator__user")
        .order_by("id")
        .first()
    )
    if line is None:
        return f"statements: no posted run for {period}, so no statement to show"
    creator, currency = line.creator, line.currency
    statement = statement_for(creator=creator, period=period, currency=currency)
    payable = creator_payables(creator=creator)[currency]
    assert statement.closing_micros == -account_balance(payable, as_of=statement.ends_at)
    money = lambda micros: money_from_micros(micros, currency)  # noqa: E731
    return (
        f"statements: {creator.user.username} {period} {statement.status}, "
        f"earned {money(statement.earned_micros)}, closing {money(statement.closing_micros)} "
        f"({len(statement.lines)} lines): {PORTAL}/statements/{statement.id}/ "
        f"(PDF {PORTAL}/statements/{statement.id}.pdf; chart {PORTAL}/earnings/)"
    )
