"""A payout never takes more than the creator's payable holds when it is claimed.

The bug (issue 20's brief h20): a batch drafted for a creator, then a royalty run
posting a negative late adjustment for that creator, then the dispatch: the claim
moved the item's whole amount payable -> in transit without looking at the payable,
so the payable went into debit and Stripe paid more than Accord owed. Now the claim
locks the payable (`payout_payable_lock`; the run takes the same lock for the
payables it debits), and an item asking more than the payable holds is `failed` with
`payable_insufficient`, nothing posted, nothing sent; a new batch pays what is left.

The other order, the adjustment posted after the money left, is legitimate: the
creator then owes the difference (a debit payable), no batch pays them until later
earnings have covered it.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest
import stripe
from django.conf import settings
from django.db import connection, transaction

from ledger.models import Account
from ledger.selectors import account_balance, account_get
from licensing.accounts import creator_payable, platform_payouts_in_transit
from licensing.api.usage_decode import CorrectionInput
from licensing.services.creators import finance_user_create
from licensing.services.usage import usage_correct
from payouts.models import PayoutBatch, RoyaltyRun
from payouts.selectors.payout_batches import batch_progress
from payouts.services import royalty_runs
from payouts.services.payout_batches import (
    payout_batch_approve,
    payout_batch_create,
    payout_item_retry,
)
from payouts.services.payout_dispatch import PAYABLE_INSUFFICIENT, payout_batch_send_in_process
from payouts.services.payout_postings import payout_payable_lock
from payouts.services.royalty_posting import royalty_run_post
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_compute
from payouts.stripe import gateway
from tests.fixtures.stripe_sandbox import SANDBOX_API_KEY
from tests.payouts.builders import creator_onboard
from tests.payouts.royalty_fixtures import buy
from tests.payouts.test_royalty_runs_late_usage import declare

# 0.042 cents a token, 10% commission: alice (the solo work's only owner) nets 378.
NET_MICROS_PER_TOKEN = 378


def _owed(creator: Any) -> int:
    return -account_balance(account_get(code=creator_payable(creator.public_id, "eur").row().code))


def _in_transit() -> int:
    code = platform_payouts_in_transit("eur").row().code
    return account_balance(account_get(code=code)) if Account.objects.filter(code=code) else 0


def _post(period: str, user: Any) -> RoyaltyRun:
    run = royalty_run_compute(run_id=RoyaltyRun.objects.create(period=period).pk)
    assert run.status == RoyaltyRun.Status.COMPUTED, run.failure_reason
    royalty_run_approve(run=run, user=user)
    run = royalty_run_post(run_id=run.pk)
    assert run.status == RoyaltyRun.Status.POSTED
    return run


def _correct(organization: Any, event_id: str, units: int) -> None:
    amended, adjusted = usage_correct(
        organization=organization,
        corrections=[CorrectionInput(id=event_id, units=units, reason="recount")],
    )
    assert (amended, adjusted) == (0, 1), "a correction of a posted month is an adjustment"


def _pay(batch: PayoutBatch, user: Any) -> PayoutBatch:
    payout_batch_approve(batch=batch, user=user)
    return payout_batch_send_in_process(batch=PayoutBatch.objects.get(pk=batch.pk))


def _transfers() -> list:
    """Every transfer at Stripe, through the SDK as an operator would list them."""
    client = stripe.StripeClient(SANDBOX_API_KEY, base_addresses={"api": settings.STRIPE_API_BASE})
    return list(client.v1.transfers.list({"limit": 100}).data)


@pytest.fixture
def earning(catalogue, invoice_org, monkeypatch, stripe_sandbox_control, settings):
    """alice earned 100,000 tokens in January (posted), onboarded; Stripe funded."""
    settings.ROYALTY_SECOND_APPROVAL_ABOVE = {}
    settings.PAYOUT_MINIMUM = 1_000
    license = buy(
        monkeypatch,
        organization=invoice_org,
        offer=catalogue.per_unit_offer,
        at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    user = finance_user_create(username="fin")
    work = catalogue.solo_work
    declare(invoice_org, license, work, "jan-1", 100_000, datetime(2026, 1, 10, tzinfo=UTC))
    _post("2026-01", user)
    creator_onboard(catalogue.alice, stripe_sandbox_control)
    gateway.topup_create(idempotency_key="fund-payouts", amount=100_000, currency="eur")
    assert _owed(catalogue.alice) == 100_000 * NET_MICROS_PER_TOKEN  # 3,780 cents
    return {"license": license, "user": user, "work": work}


pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("stripe_sandbox_settings")]


def test_an_item_drafted_before_a_negative_adjustment_is_not_sent_beyond_the_payable(
    catalogue, invoice_org, earning
):
    alice, user = catalogue.alice, earning["user"]
    batch = payout_batch_create(currency="eur")
    (item,) = batch.items.all()
    assert item.amount == 3_780

    # January recounted down to 40,000 tokens after it posted: February's run debits
    # alice's payable by 60,000 tokens' net, below the drafted item.
    _correct(invoice_org, "jan-1", 40_000)
    february = _post("2026-02", user)
    assert sorted(february.lines.values_list("kind", "units")) == [("adjustment", -60_000)]
    owed = 40_000 * NET_MICROS_PER_TOKEN
    assert _owed(alice) == owed == 15_120_000

    batch = _pay(batch, user)

    item.refresh_from_db()
    assert (item.status, item.failure_code, item.attempts) == ("failed", PAYABLE_INSUFFICIENT, 0)
    assert "15120000 micros" in item.failure_message
    assert _owed(alice) == owed, "money untouched: nothing left the payable"
    assert _in_transit() == 0
    assert _transfers() == [], "nothing was sent to Stripe"
    assert batch.status == PayoutBatch.Status.COMPLETED_WITH_FAILURES
    progress = batch_progress(batch=batch)
    assert (progress.counts["failed"], progress.amounts["failed"]) == (1, 3_780)

    # A new draft pays what the payable holds, rounded down to the cent, once.
    again = payout_batch_create(currency="eur")
    (second,) = again.items.all()
    assert second.amount == 1_512
    again = _pay(again, user)
    second.refresh_from_db()
    assert (again.status, second.status) == (PayoutBatch.Status.COMPLETED, "paid")
    assert _owed(alice) == 0
    assert [(t.amount, t.id) for t in _transfers()] == [(1_512, second.transfer_id)]


def test_a_failed_insufficient_item_retried_after_the_payable_grew_is_paid(
    catalogue, invoice_org, earning, client_for
):
    alice, user, work = catalogue.alice, earning["user"], earning["work"]
    batch = payout_batch_create(currency="eur")
    (item,) = batch.items.all()
    _correct(invoice_org, "jan-1", 0)
    _post("2026-02", user)
    _pay(batch, user)
    item.refresh_from_db()
    assert (item.status, item.failure_code) == ("failed", PAYABLE_INSUFFICIENT)
    assert _owed(alice) == 0

    # March earns it back; finance retries the very item, which now fits.
    declare(
        invoice_org, earning["license"], work, "mar-1", 100_000, datetime(2026, 3, 5, tzinfo=UTC)
    )
    _post("2026-03", user)
    payout_item_retry(item=item)
    payout_batch_send_in_process(batch=PayoutBatch.objects.get(pk=batch.pk))
    item.refresh_from_db()
    assert (item.status, item.failure_code) == ("paid", "")
    assert _owed(alice) == 0
    assert [t.amount for t in _transfers()] == [3_780]


def test_a_negative_adjustment_after_the_payout_leaves_the_creator_owing_until_earned_back(
    catalogue, invoice_org, earning
):
    alice, user, work = catalogue.alice, earning["user"], earning["work"]
    _pay(payout_batch_create(currency="eur"), user)
    assert _owed(alice) == 0

    _correct(invoice_org, "jan-1", 40_000)
    _post("2026-02", user)

    debt = 60_000 * NET_MICROS_PER_TOKEN
    assert _owed(alice) == -debt, "the creator owes what was overpaid"
    nobody = payout_batch_create(currency="eur")
    assert nobody.items_count == 0
    assert nobody.skipped == []
    declare(
        invoice_org, earning["license"], work, "mar-1", 100_000, datetime(2026, 3, 5, tzinfo=UTC)
    )
    _post("2026-03", user)
    netted = payout_batch_create(currency="eur")
    assert [i.amount for i in netted.items.all()] == [1_512]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_debiting_a_payable_waits_for_the_claim_that_holds_it(
    catalogue, invoice_org, earning, monkeypatch
):
    """The lock orders them: the run's debit lands after the claim, never under it."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    alice, user = catalogue.alice, earning["user"]
    batch = payout_batch_create(currency="eur")
    (item,) = batch.items.all()
    _correct(invoice_org, "jan-1", 40_000)
    run = royalty_run_compute(run_id=RoyaltyRun.objects.create(period="2026-02").pk)
    # Approved, not posted yet: the posting job is run below, in a thread of its own.
    monkeypatch.setattr(royalty_runs, "_enqueue", lambda name, run: None)
    royalty_run_approve(run=run, user=user)
    outcome: dict[str, Any] = {}

    def post_run() -> None:
        try:
            outcome["run"] = royalty_run_post(run_id=run.pk)
        finally:
            connection.close()

    poster = threading.Thread(target=post_run)
    with transaction.atomic():
        owed = payout_payable_lock(item=item)
        assert owed == 100_000 * NET_MICROS_PER_TOKEN
        poster.start()
        _wait_until_another_backend_waits_for_this_one()
        assert RoyaltyRun.objects.get(pk=run.pk).status != RoyaltyRun.Status.POSTED
    poster.join(timeout=60)
    assert outcome["run"].status == RoyaltyRun.Status.POSTED
    assert _owed(alice) == 40_000 * NET_MICROS_PER_TOKEN


def _wait_until_another_backend_waits_for_this_one() -> None:
    """Poll (bounded) until a backend is blocked by this one: the run's chunk, queued
    behind the claim's row lock on the payable. Statistics views are snapshotted once
    per transaction, so the snapshot is cleared on every look."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE pg_backend_pid() = ANY(pg_blocking_pids(pid))"
            )
            if cursor.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the run never waited for the payable's lock")
