"""The demo's seal step, the Celery task and the payouts demo hooks."""

from __future__ import annotations

import pytest
from django.utils.module_loading import import_string

from ledger.demo import demo_ledger_seal
from ledger.models import SealBlock
from ledger.services import Leg, platform_account, transaction_post
from ledger.tasks import ledger_seal_task

pytestmark = pytest.mark.django_db


def _books(count: int) -> None:
    """`count` card sales booked straight to commission: something to seal."""
    cash = platform_account(name="stripe_balance", kind="asset", currency="eur")
    commission = platform_account(name="commission", kind="revenue", currency="eur")
    for number in range(count):
        transaction_post(
            idempotency_key=f"test:sale:{number}",
            kind="license_sale",
            legs=[Leg(cash, 1_000_000), Leg(commission, -1_000_000)],
        )


def test_demo_seal_step_summarises_in_one_line() -> None:
    _books(3)
    summary = demo_ledger_seal()
    assert "\n" not in summary
    assert summary.startswith("ledger: checkpoints:")
    assert "chain verified (1 blocks, 3 transactions)" in summary


def test_the_seal_task_runs_the_service() -> None:
    _books(2)
    summary = ledger_seal_task.apply().get()
    assert "sealing: 1 blocks, 2 transactions" in summary
    assert SealBlock.objects.count() == 1


def test_the_payouts_demo_seals_last_and_posts_no_books_of_its_own() -> None:
    from payouts.demo import DEMO_JOB_STEPS, DEMO_LOADERS

    assert DEMO_JOB_STEPS[-1] == "ledger.demo.demo_ledger_seal"
    assert import_string(DEMO_JOB_STEPS[-1]) is demo_ledger_seal
    assert not [loader for loader in DEMO_LOADERS if loader.startswith("ledger.")]
