"""A real Celery worker process for a test: its own queue, the test's database and sandbox.

The worker is started with the test database's URL (pytest-django's `test_…`
database, which a `transaction=True` test commits into), the sandbox's URL, and a
queue and rate-limit key of its own, so tests on other xdist workers never share its
jobs or its request budget. `kill()` SIGKILLs the whole process group - the worker
and its pool children - without letting it acknowledge anything.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection

from tests.fixtures.stripe_sandbox import SANDBOX_API_KEY, SANDBOX_WEBHOOK_SECRET

ROOT = Path(__file__).resolve().parents[2]


def test_database_url() -> str:
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class Worker:
    def __init__(self, *, sandbox_url: str, queue: str, env: dict[str, str]) -> None:
        self.sandbox_url = sandbox_url
        self.queue = queue
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self, concurrency: int = 2) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": test_database_url(),
            "REDIS_URL": settings.REDIS_URL,
            "STRIPE_SECRET_KEY": SANDBOX_API_KEY,
            "STRIPE_API_BASE": self.sandbox_url,
            "STRIPE_WEBHOOK_SECRET": SANDBOX_WEBHOOK_SECRET,
            "CELERY_TASK_DEFAULT_QUEUE": self.queue,
            "DB_CONN_MAX_AGE": "0",
            # The sandbox's key is not "sk_test_accord_sandbox": allow this checkout's
            # generated secrets explicitly, as the test process has them.
            "ACCORD_LOCAL_SECRETS": "1",
            **self.env,
        }
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "config", "worker",
                "-Q", self.queue, "-c", str(concurrency), "--pool", "prefork",
                "-l", "WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-n", f"{self.queue}-{uuid.uuid4().hex[:6]}@%h",
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,
        )  # fmt: skip

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL the worker and its children at once: nothing is acknowledged."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        if self.process is None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self.process = None


def wait_until(
    predicate: Callable[[], Any],
    *,
    timeout_seconds: float,
    what: str,
    workers: list[Worker] = (),  # type: ignore[assignment]
) -> Any:
    """Poll until `predicate` is truthy; fail at once if a worker died on its own."""
    deadline = time.monotonic() + timeout_seconds
    while True:
        value = predicate()
        if value:
            return value
        for worker in workers:
            assert worker.process is None or worker.alive(), "the Celery worker exited"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)
