"""A real Celery worker is SIGKILLed while it posts a run; after a restart every
license's transaction is posted exactly once and the run is `posted`.

The worker runs on Redis (the test's own queue) against the test database; the run
is computed in this process from stand-in usage aggregates, then approved, which
enqueues the posting for the worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from ledger.models import Entry, Transaction
from ledger.selectors import account_balance, account_get, trial_balance
from licensing.services.creators import finance_user_create
from payouts.models import RoyaltyRun
from payouts.services.royalty_runs import royalty_run_approve, royalty_run_start
from tests.payouts.royalty_fixtures import FakeUsage, buy

pytestmark = [pytest.mark.postgres, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

LICENSES = 12
ROOT = Path(__file__).resolve().parents[2]


def _worker(queue: str) -> subprocess.Popen:
    database = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
        "REDIS_URL": settings.REDIS_URL,
        "ACCORD_TEST_QUEUE": queue,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "tests.payouts.celery_worker_app",
            "worker",
            "-Q",
            queue,
            "-c",
            "1",
            "-P",
            "prefork",
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        start_new_session=True,  # its own process group: SIGKILL reaches master and child
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_sigkill_mid_posting_then_restart_posts_each_transaction_once(
    catalogue, invoice_org, monkeypatch
):
    from config.celery import app

    queue = f"accord-test-{uuid.uuid4().hex}"
    previous_queue = app.conf.task_default_queue
    app.conf.task_default_queue = queue
    try:
        _crash_and_recover(catalogue, invoice_org, monkeypatch, queue)
    finally:
        app.conf.task_default_queue = previous_queue


def _crash_and_recover(catalogue, invoice_org, monkeypatch, queue):
    from config.celery import app

    usage = FakeUsage(monkeypatch)
    licenses = [
        buy(
            monkeypatch,
            organization=invoice_org,
            offer=catalogue.per_unit_offer,
            at=datetime(2026, 1, 5, tzinfo=UTC),
        )
        for _ in range(LICENSES)
    ]
    for license in licenses:
        usage.declare("2026-01", license, catalogue.solo_work, 10_000)  # 4,200,000 micros
    app.conf.task_always_eager = True
    run = royalty_run_start(period="2026-01")  # computed here, eagerly
    app.conf.task_always_eager = False
    run.refresh_from_db()
    assert run.status == RoyaltyRun.Status.COMPUTED

    worker = _worker(queue)
    try:
        royalty_run_approve(run=run, user=finance_user_create(username="fin"))  # enqueues
        _wait(lambda: RoyaltyRun.objects.get(pk=run.pk).licenses_posted >= 3, 60, "3 posted")
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(10)
        half = RoyaltyRun.objects.get(pk=run.pk)
        assert half.status == RoyaltyRun.Status.POSTING
        assert 3 <= half.licenses_posted < LICENSES
        assert Transaction.objects.filter(kind="royalty").count() == half.licenses_posted

        worker = _worker(queue)
        from payouts.tasks import royalty_runs_resume_task

        royalty_runs_resume_task.delay()  # what beat does every few minutes
        _wait(
            lambda: RoyaltyRun.objects.get(pk=run.pk).status == RoyaltyRun.Status.POSTED,
            90,
            "the run posted",
        )
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(20)

    postings = Transaction.objects.filter(kind="royalty")
    assert postings.count() == LICENSES
    keys = set(postings.values_list("idempotency_key", flat=True))
    assert keys == {f"royalty:{run.public_id}:{license.public_id}" for license in licenses}
    assert Entry.objects.filter(transaction__kind="royalty").count() == 3 * LICENSES
    payable = account_get(code=f"creator:{catalogue.alice.public_id}:payable:eur")
    assert account_balance(payable) == -LICENSES * 3_780_000
    assert trial_balance().balanced
