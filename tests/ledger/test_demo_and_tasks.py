"""The demo books, the Celery task and the payouts demo hooks."""

from __future__ import annotations

import pytest
from django.utils.module_loading import import_string

from ledger.demo import demo_ledger_load, demo_ledger_seal
from ledger.models import Entry, SealBlock, Transaction
from ledger.selectors import account_balance, account_get, trial_balance
from ledger.tasks import ledger_seal_task

pytestmark = pytest.mark.django_db


def test_demo_books_are_realistic_balanced_and_load_once() -> None:
    assert demo_ledger_load() == []
    written = (Transaction.objects.count(), Entry.objects.count())
    assert demo_ledger_load() == []
    assert (Transaction.objects.count(), Entry.objects.count()) == written

    kinds = set(Transaction.objects.values_list("kind", flat=True))
    assert {"license_sale", "reversal", "payout", "invoice_payment", "processor_fee"} <= kinds
    report = trial_balance()
    assert report.balanced
    assert set(report.totals) == {"eur", "usd"}
    # Payouts go out in whole cents; the sub-cent remainder of a 60/40 split stays owed.
    assert account_balance(account_get(code="creator:demo-cleo:payable:eur")) == -5_200
    assert account_balance(account_get(code="creator:demo-ada:payable:eur")) == 0
    assert account_balance(account_get(code="platform:commission:eur")) == -69_998_000


def test_demo_seal_step_summarises_in_one_line() -> None:
    demo_ledger_load()
    summary = demo_ledger_seal()
    assert "\n" not in summary
    assert summary.startswith("ledger: checkpoints:")
    assert "chain verified (1 blocks, 12 transactions)" in summary


def test_the_seal_task_runs_the_service() -> None:
    demo_ledger_load()
    summary = ledger_seal_task.apply().get()
    assert "sealing: 1 blocks, 12 transactions" in summary
    assert SealBlock.objects.count() == 1


def test_the_payouts_demo_lists_the_ledger_steps() -> None:
    from payouts.demo import DEMO_JOB_STEPS, DEMO_LOADERS

    assert "ledger.demo.demo_ledger_load" in DEMO_LOADERS
    assert DEMO_LOADERS.index("ledger.demo.demo_ledger_load") > DEMO_LOADERS.index(
        "payouts.demo.demo_staff_load"
    )
    assert "ledger.demo.demo_ledger_seal" in DEMO_JOB_STEPS
    assert import_string("ledger.demo.demo_ledger_seal") is demo_ledger_seal
