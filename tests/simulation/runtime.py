"""The simulation's processes: a real Celery worker on Redis (killed and restarted at
will), beat's periodic nudges, and waiting until the system is at rest.

"At rest" means no run computing or posting, no batch dispatching, every Stripe event
the sandbox sent delivered and processed. The worker is a `celery worker` process of
`tests.simulation.worker_app` on a queue of its own, against the test database and the
in-process sandbox.
"""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import stripe
from django.conf import settings
from django.utils import timezone

from config.celery import app
from payouts.models import Invoice, PayoutBatch, RoyaltyRun, StripeEvent
from payouts.services.payout_batches import payout_batch_dispatch
from payouts.stripe.tasks import PENDING_AFTER, stripe_events_pending_process_task
from payouts.tasks import invoices_charge_due_task, royalty_runs_resume_task
from tests.fixtures.stripe_sandbox import SANDBOX_API_KEY, SANDBOX_WEBHOOK_SECRET
from tests.payouts.worker import ROOT, Worker, test_database_url
from tests.simulation.faults import WORKER_STRIPE_TIMEOUT_SECONDS
from tests.simulation.plants import PLANT_ENV

# An event whose own task died with a killed worker is re-processed by beat only once
# it is PENDING_AFTER old (2 min): the wait must outlast that, or a kill during a run's
# card charges (its invoices' webhooks) reads as an event lost for ever.
REST_TIMEOUT_SECONDS = max(90, PENDING_AFTER.total_seconds() + 30)
# What beat would do every few minutes, done every few seconds of waiting.
BEAT_EVERY_SECONDS = 4.0
INVOICE_LEASE_SECONDS = 10
# Beat (in the worker) takes a stored event as lost this soon, not after PENDING_AFTER.
EVENTS_PENDING_AFTER_SECONDS = 10
# Anything due within this is at hand (a lease); a declined invoice's next try is hours off.
INVOICE_DUE_SOON = 3 * INVOICE_LEASE_SECONDS
BUSY_RUNS = (RoyaltyRun.Status.COMPUTING, RoyaltyRun.Status.APPROVED, RoyaltyRun.Status.POSTING)


class SimWorker(Worker):
    """A worker process of the simulation's Celery app (its plant, its short timeout)."""

    def start(self, concurrency: int = 2) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "STRIPE_SECRET_KEY": SANDBOX_API_KEY,
            "STRIPE_API_BASE": self.sandbox_url,
            "STRIPE_WEBHOOK_SECRET": SANDBOX_WEBHOOK_SECRET,
            "ACCORD_TEST_QUEUE": self.queue,
            "DB_CONN_MAX_AGE": "0",
            "ACCORD_LOCAL_SECRETS": "1",
            **self.env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "tests.simulation.worker_app", "worker",
                "-Q", self.queue, "-c", str(concurrency), "--pool", "prefork",
                "-l", "ERROR", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
        )  # fmt: skip


@dataclass
class Runtime:
    sandbox_url: str
    control: Any
    plant: str | None = None
    queue: str = field(default_factory=lambda: f"simulation-{uuid.uuid4().hex[:10]}")
    worker: SimWorker | None = None
    kills: int = 0

    def __post_init__(self) -> None:
        self.previous_queue = app.conf.task_default_queue
        app.conf.task_default_queue = self.queue
        self.stripe = stripe.StripeClient(
            SANDBOX_API_KEY, base_addresses={"api": self.sandbox_url}, max_network_retries=0
        )

    def worker_start(self) -> None:
        env = {
            "STRIPE_RATE_LIMIT_KEY": f"accord:sim-rate:{self.queue}",
            "STRIPE_REQUESTS_PER_SECOND": "500",
            "PAYOUT_CHUNK_SIZE": "2",
            "PAYOUT_BACKOFF_BASE_SECONDS": "0.05",
            "PAYOUT_BACKOFF_MAX_SECONDS": "0.8",
            # A killed worker's unacknowledged jobs come back this soon.
            "CELERY_VISIBILITY_TIMEOUT_SECONDS": "3",
            "ACCORD_SIM_STRIPE_TIMEOUT_SECONDS": str(WORKER_STRIPE_TIMEOUT_SECONDS),
            # A card charge whose worker was killed is taken up again this soon.
            "INVOICE_CHARGE_LEASE_SECONDS": str(INVOICE_LEASE_SECONDS),
            "ACCORD_SIM_EVENTS_PENDING_AFTER_SECONDS": str(EVENTS_PENDING_AFTER_SECONDS),
        }
        if self.plant:
            env[PLANT_ENV] = self.plant
        self.worker = SimWorker(sandbox_url=self.sandbox_url, queue=self.queue, env=env)
        self.worker.start(concurrency=2)

    def worker_kill_and_restart(self, pause_seconds: float = 0.5) -> None:
        """SIGKILL the worker (nothing acknowledged), wait, start a new one."""
        assert self.worker is not None
        self.worker.kill()
        self.kills += 1
        time.sleep(pause_seconds)
        self.worker_start()

    def _worker_check(self) -> None:
        assert self.worker is not None
        assert self.worker.alive(), "the Celery worker exited"

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()
        app.conf.task_default_queue = self.previous_queue

    def beat(self) -> None:
        """Send beat's recovery jobs: resume runs, re-process stored events, charge due
        card invoices, nudge dispatching batches."""
        royalty_runs_resume_task.delay()
        stripe_events_pending_process_task.delay()
        invoices_charge_due_task.delay()  # a charge whose job died with a killed worker
        for batch in PayoutBatch.objects.filter(status=PayoutBatch.Status.DISPATCHING):
            payout_batch_dispatch(batch=batch)  # what finance's "dispatch" button does again

    def today(self) -> datetime.date:
        return datetime.datetime.now(datetime.UTC).date()

    def _undelivered(self) -> int:
        page = self.stripe.v1.events.list({"delivery_success": False, "limit": 100})
        return len(page.data)

    def busy(self) -> list[str]:
        reasons = []
        if RoyaltyRun.objects.filter(status__in=BUSY_RUNS).exists():
            reasons.append("a royalty run is computing or posting")
        if PayoutBatch.objects.filter(status=PayoutBatch.Status.DISPATCHING).exists():
            reasons.append("a payout batch is dispatching")
        if Invoice.objects.filter(
            status=Invoice.Status.OPEN,
            billing="card",
            next_charge_at__lte=timezone.now() + datetime.timedelta(seconds=INVOICE_DUE_SOON),
        ).exists():
            # Due, or leased by a charge under way: checking now would race the charge
            # (Stripe charged, the books not yet), as a reconciliation mid-charge does.
            reasons.append("a card invoice is due or being charged")
        if StripeEvent.objects.filter(processed_at__isnull=True).exists():
            reasons.append("a stored Stripe event is not processed")
        if self._undelivered():
            reasons.append("the sandbox has undelivered webhooks")
        return reasons

    def wait_at_rest(self, *, timeout_seconds: float = REST_TIMEOUT_SECONDS) -> None:
        """Wait until nothing is in flight; fail naming what still is."""
        deadline = time.monotonic() + timeout_seconds
        next_beat = time.monotonic() + BEAT_EVERY_SECONDS
        while True:
            reasons = self.busy()
            if not reasons:
                return
            self._worker_check()
            if time.monotonic() > deadline:
                raise AssertionError(f"not at rest after {timeout_seconds}s: {reasons}")
            if time.monotonic() > next_beat:
                # Webhook faults still armed would hold events (`reorder`) for ever.
                self.control.clear_webhook_faults()
                self.beat()
                next_beat = time.monotonic() + BEAT_EVERY_SECONDS
            time.sleep(0.2)

    def wait_for(self, predicate: Any, *, what: str, timeout_seconds: float = 60) -> Any:
        deadline = time.monotonic() + timeout_seconds
        while True:
            value = predicate()
            if value:
                return value
            self._worker_check()
            assert time.monotonic() < deadline, f"timed out waiting for {what}"
            time.sleep(0.1)
