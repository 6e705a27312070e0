"""`make demo` twice: the second run loads and buys nothing, so the books stay as they were."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.management import call_command

from ledger.models import Entry, Transaction
from licensing.models import License, LicenseeOrganization, Purchase
from payouts.demo import demo_job_run

pytestmark = pytest.mark.django_db


def _census() -> dict[str, int]:
    return {
        "transactions": Transaction.objects.count(),
        "entries": Entry.objects.count(),
        "licenses": License.objects.count(),
        "purchases": Purchase.objects.count(),
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
    assert License.objects.filter(organization=invoiced).count() == 3
    assert _census() == census


def test_the_demo_onboards_its_creators_and_pays_a_batch(stripe_sandbox_settings: Any) -> None:
    from payouts.models import PayoutAccount, PayoutBatch

    call_command("load_demo_data", stdout=io.StringIO())
    summary = [line for line in demo_job_run() if line.startswith("payouts:")]
    assert summary, "the demo runs its payout step"
    assert PayoutAccount.objects.filter(payouts_enabled=True).exists()
    assert PayoutBatch.objects.filter(status=PayoutBatch.Status.COMPLETED).exists(), summary
