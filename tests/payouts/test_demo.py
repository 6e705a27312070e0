"""`make demo` twice: the second run loads and buys nothing, so the books stay as they were."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from ledger.models import Entry, Transaction
from ledger.selectors import account_balance, account_get
from licensing import accounts
from licensing.models import License, LicenseeOrganization, Purchase, UsageEvent
from payouts.demo import demo_job_run
from payouts.models import Invoice, RoyaltyLine, RoyaltyRun

pytestmark = pytest.mark.django_db


def _census() -> dict[str, int]:
    return {
        "transactions": Transaction.objects.count(),
        "entries": Entry.objects.count(),
        "licenses": License.objects.count(),
        "purchases": Purchase.objects.count(),
        "usage": UsageEvent.objects.count(),
        "runs": RoyaltyRun.objects.count(),
        "lines": RoyaltyLine.objects.count(),
        "invoices": Invoice.objects.count(),
    }


def _demo_run() -> None:
    """What `serve_demo` does before it serves: load the demo data, run the main job."""
    call_command("load_demo_data", stdout=io.StringIO())
    demo_job_run()


def test_a_second_demo_run_posts_nothing_new(stripe_sandbox_settings: Any) -> None:
    _demo_run()
    census = _census()
    invoiced = LicenseeOrganization.objects.get(billing=LicenseeOrganization.Billing.INVOICE)

    _demo_run()

    assert census["transactions"] > 0
    # Invoiced and free purchases keep no request key; they were the ones bought twice.
    # Three bought now, one agreed two months ago (the money loop's per-unit license).
    assert License.objects.filter(organization=invoiced).count() == 4
    assert _census() == census


def test_the_demo_posts_last_months_royalty_run_once(stripe_sandbox_settings: Any) -> None:
    _demo_run()
    run = RoyaltyRun.objects.get()
    northwind = LicenseeOrganization.objects.get(slug="northwind")
    line = run.lines.get()
    receivable_ref = accounts.organization_receivable(northwind.public_id, "eur")
    receivable = account_get(code=receivable_ref.row().code)
    receivable_before_again = account_balance(receivable)

    summaries = demo_job_run()

    # 10,000 + 2,345 items at 0.5 cent: 61.725 EUR; 10% commission; the 777 flagged unrated.
    assert run.status == RoyaltyRun.Status.POSTED
    assert (line.kind, line.units, line.license.organization) == ("per_unit", 12_345, northwind)
    assert (line.gross_micros, line.commission_micros, line.net_micros) == (
        61_725_000, 6_172_500, 55_552_500
    )  # fmt: skip
    assert run.totals["eur"] == {
        "gross_micros": 61_725_000, "commission_micros": 6_172_500,
        "net_micros": 55_552_500, "lines": 1,
    }  # fmt: skip
    assert [flag["units"] for flag in run.flagged] == [777]
    assert (
        Transaction.objects.filter(idempotency_key__startswith=f"royalty:{run.public_id}:").count()
        == 1
    )
    assert RoyaltyRun.objects.get() == run
    assert run.lines.count() == 1
    assert account_balance(receivable) == receivable_before_again
    royalties = next(s for s in summaries if s.startswith("royalties:"))
    assert "usage accepted 0 (flagged 0, duplicates 3)" in royalties
    assert f"run {run.public_id}" in royalties
    assert "gross 61.725 EUR" in royalties
    # Northwind holds last month's invoice: the run's gross, whole cents due.
    invoice = Invoice.objects.get(organization=northwind, period=run.period)
    assert (invoice.total_micros, invoice.amount_due, invoice.status) == (61_725_000, 6_172, "open")
    assert f"invoice {invoice.public_id} {run.period}: €61.72 due, open" in royalties


def test_the_demo_onboards_its_creators_and_pays_a_batch(stripe_sandbox_settings: Any) -> None:
    from payouts.models import PayoutAccount, PayoutBatch

    call_command("load_demo_data", stdout=io.StringIO())
    summary = [line for line in demo_job_run() if line.startswith("payouts:")]
    assert summary, "the demo runs its payout step"
    assert PayoutAccount.objects.filter(payouts_enabled=True).exists()
    assert PayoutBatch.objects.filter(status=PayoutBatch.Status.COMPLETED).exists(), summary
