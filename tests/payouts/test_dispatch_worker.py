"""Dispatch by a real Celery worker process on Redis, against the sandbox: paid once.

Each test commits its data (`transaction=True`), starts a worker process on a queue
of its own, dispatches through the API and waits for the batch to finish; then it
checks the outcome three ways - the items, the sandbox's transfers of the batch's
group (one per item, matched by metadata), and the ledger against the sandbox's
balance, to the micro - and reconciles the day.
"""

from __future__ import annotations

import datetime
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection

from config.celery import app
from ledger.money import minor_to_micros
from ledger.selectors import account_balance, account_get
from licensing.accounts import (
    creator_payable,
    platform_payouts_in_transit,
    platform_stripe_balance,
)
from payouts.models import PayoutBatch, PayoutItem
from payouts.selectors.reconciliation import reconciliation_for_date
from payouts.services.payout_batches import payout_batch_approve, payout_batch_create
from payouts.stripe import gateway
from payouts.stripe.results import Transfer
from tests.payouts.builders import (
    CO_OWNERS_PER_WORK,
    Funded,
    funded_creators,
    payout_and_remainder,
)
from tests.payouts.worker import Worker, wait_until

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres,
    pytest.mark.worker,
    pytest.mark.usefixtures("stripe_sandbox_settings"),
]

PAYOUT, REMAINDER_MICROS = payout_and_remainder(CO_OWNERS_PER_WORK)


@pytest.fixture
def worker_for(stripe_sandbox: str, settings: Any) -> Iterator[Any]:
    """Start workers on a queue of this test's own; stop them all after it."""
    queue = f"payouts-test-{uuid.uuid4().hex[:10]}"
    rate_key = f"accord:test-stripe-rate:{queue}"
    settings.STRIPE_RATE_LIMIT_KEY = rate_key
    previous = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    started: list[Worker] = []

    def start(concurrency: int = 2, **env: str) -> Worker:
        worker = Worker(
            sandbox_url=stripe_sandbox,
            queue=queue,
            env={"STRIPE_RATE_LIMIT_KEY": rate_key, "PAYOUT_CHUNK_SIZE": "25", **env},
        )
        worker.start(concurrency)
        started.append(worker)
        return worker

    start.started = started  # type: ignore[attr-defined]
    yield start
    for worker in started:
        worker.stop()
    app.conf.task_default_queue = previous


@pytest.fixture
def approved(finance_user: Any, second_finance_user: Any) -> Any:
    def make(count: int) -> PayoutBatch:
        batch = payout_batch_create(currency="eur", user=finance_user)
        assert batch.items_count == count
        batch = payout_batch_approve(batch=batch, user=finance_user)
        if batch.status == PayoutBatch.Status.DRAFT:  # four eyes above the threshold
            batch = payout_batch_approve(batch=batch, user=second_finance_user)
        assert batch.status == PayoutBatch.Status.APPROVED
        return batch

    return make


def _dispatch(client: Any, batch: PayoutBatch) -> None:
    response = client.post(f"/api/v1/payout-batches/{batch.public_id}/dispatch")
    assert response.status_code == 202, response.json()


def _finished(batch: PayoutBatch, workers: Any, timeout_seconds: float = 120) -> PayoutBatch:
    def done() -> PayoutBatch | None:
        batch.refresh_from_db()
        return batch if batch.status == PayoutBatch.Status.COMPLETED else None

    return wait_until(
        done, timeout_seconds=timeout_seconds, what=f"{batch} to complete", workers=workers.started
    )


def _group_transfers(batch: PayoutBatch) -> list[Transfer]:
    transfers: list[Transfer] = []
    starting_after = None
    while True:
        page = gateway.transfers_list(
            transfer_group=batch.transfer_group, starting_after=starting_after
        )
        transfers += page.items
        if not page.has_more:
            return transfers
        starting_after = page.items[-1].id


def _balance(ref: Any) -> int:
    return account_balance(account_get(code=ref.row().code))


def assert_paid_exactly_once(batch: PayoutBatch, funded: Funded) -> None:
    items = list(PayoutItem.objects.filter(batch=batch).select_related("creator"))
    assert {item.status for item in items} == {PayoutItem.Status.PAID}
    transfers = _group_transfers(batch)
    by_item = {t.metadata["accord_payout_item"]: t for t in transfers}
    assert len(transfers) == len(items) == len(by_item), "one transfer per item, no more"
    for item in items:
        transfer = by_item[item.public_id]
        assert transfer.id == item.transfer_id
        assert (transfer.amount, transfer.destination) == (PAYOUT, item.stripe_account_id)
    # The ledger and the sandbox agree to the micro.
    for creator in funded.creators:
        assert _balance(creator_payable(creator.public_id, "eur")) == -REMAINDER_MICROS
    assert _balance(platform_payouts_in_transit("eur")) == 0
    sandbox_balance = gateway.balance_retrieve().available["eur"]
    assert _balance(platform_stripe_balance("eur")) == minor_to_micros(sandbox_balance, "eur")
    assert sandbox_balance == funded.charged - PAYOUT * len(items)
    assert reconciliation_for_date(day=datetime.datetime.now(datetime.UTC).date()).differences == []


def test_a_thousand_creators_are_paid_exactly_once_and_reconcile(
    stripe_sandbox_control: Any, worker_for: Any, approved: Any, finance_client: Any
) -> None:
    funded = funded_creators(1_000, stripe_sandbox_control)
    batch = approved(1_000)
    worker_for(STRIPE_REQUESTS_PER_SECOND="2000")

    _dispatch(finance_client, batch)
    _finished(batch, worker_for)

    assert_paid_exactly_once(batch, funded)
    requests = stripe_sandbox_control.stats()["by_route"]
    assert requests["POST /v1/transfers"] == 1_000

    # A transfer made behind Accord's back (in Stripe's dashboard, say) is reported.
    stranger = gateway.transfer_create(
        idempotency_key="outside-accord-1",
        destination=funded.creators[0].payout_account.stripe_account_id,
        amount=123,
        currency="eur",
    )
    today = datetime.datetime.now(datetime.UTC).date()
    response = finance_client.get(f"/api/v1/reconciliation?date={today.isoformat()}")
    assert response.status_code == 200
    body = response.json()
    assert body["matched"] == 1_000 + len(funded.licenses)  # transfers and charges
    assert body["differences"] == [
        {
            "kind": "missing_in_ledger",
            "ledger": None,
            "stripe": stranger.id,
            "amount": 123,
            "currency": "eur",
        }
    ]


def test_with_500s_429s_and_dropped_answers_every_item_is_paid_once(
    stripe_sandbox_control: Any, worker_for: Any, approved: Any, finance_client: Any
) -> None:
    funded = funded_creators(1_000, stripe_sandbox_control)
    batch = approved(1_000)
    # The next 96 transfer requests fail in turn: a 500 and a 429 (nothing done), the
    # work done and the answer dropped, the connection dropped before the work.
    for _ in range(24):  # the sandbox arms at most 100 faults
        for mode, options in (
            ("status", {"status": 500}),
            ("status", {"status": 429}),
            ("drop_after", {}),
            ("drop", {}),
        ):
            stripe_sandbox_control.arm_fault("/v1/transfers", mode, method="POST", **options)
    # And the look-ups that follow an unknown outcome fail now and then too.
    stripe_sandbox_control.arm_fault("/v1/transfers", "status", count=5, method="GET", status=503)
    worker_for(STRIPE_REQUESTS_PER_SECOND="2000", PAYOUT_BACKOFF_BASE_SECONDS="0.01")

    _dispatch(finance_client, batch)
    _finished(batch, worker_for)

    assert_paid_exactly_once(batch, funded)
    requests = stripe_sandbox_control.stats()["by_route"]
    # Each fault costs a try; a dropped answer may be found by the look that follows.
    assert requests["POST /v1/transfers"] >= 1_000 + 96 - 24
    assert requests["GET /v1/transfers"] >= 72  # every 5xx and drop was looked up
    assert stripe_sandbox_control.get("/_sandbox/faults")["faults"] == []


def test_a_worker_killed_mid_batch_and_restarted_pays_every_item_once(
    stripe_sandbox_control: Any, worker_for: Any, approved: Any, finance_client: Any
) -> None:
    funded = funded_creators(300, stripe_sandbox_control)
    batch = approved(300)
    env = {"STRIPE_REQUESTS_PER_SECOND": "100", "CELERY_VISIBILITY_TIMEOUT_SECONDS": "3"}
    worker = worker_for(**env)
    _dispatch(finance_client, batch)

    def paid() -> int:
        return PayoutItem.objects.filter(batch=batch, status=PayoutItem.Status.PAID).count()

    wait_until(lambda: paid() >= 50, timeout_seconds=60, what="50 items paid")
    # Hold the next transfers at Stripe, which does them after the worker is gone:
    # killed between calling Stripe and recording the answer.
    stripe_sandbox_control.arm_fault("/v1/transfers", "slow", count=2, delay_ms=1_500)
    wait_until(
        lambda: stripe_sandbox_control.get("/_sandbox/faults")["faults"] == [],
        timeout_seconds=30,
        what="the slow transfers to start",
    )
    worker.kill()
    killed_at_paid = paid()
    assert killed_at_paid < 300, "the batch finished before the kill"
    time.sleep(2)  # Stripe finishes the held transfers; nobody records them
    worker_for(**env)

    _finished(batch, worker_for)
    assert_paid_exactly_once(batch, funded)
    assert stripe_sandbox_control.stats()["by_route"]["GET /v1/transfers"] >= 1


def test_two_concurrent_dispatches_make_one_transfer_per_item(
    stripe_sandbox_control: Any, worker_for: Any, approved: Any, finance_client_for: Any,
    finance_user: Any, second_finance_user: Any,
) -> None:  # fmt: skip
    funded = funded_creators(300, stripe_sandbox_control)
    batch = approved(300)
    env = {"STRIPE_REQUESTS_PER_SECOND": "2000", "PAYOUT_CHUNK_SIZE": "10"}
    worker_for(**env)
    worker_for(**env)
    clients = [finance_client_for(finance_user), finance_client_for(second_finance_user)]
    barrier = threading.Barrier(len(clients))
    statuses: list[int] = []

    def press(client: Any) -> None:
        barrier.wait()
        try:
            statuses.append(
                client.post(f"/api/v1/payout-batches/{batch.public_id}/dispatch").status_code
            )
        finally:
            connection.close()

    threads = [threading.Thread(target=press, args=(client,)) for client in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [202, 202]

    _finished(batch, worker_for)
    assert_paid_exactly_once(batch, funded)
