"""Faults the simulation injects: at the sandbox (Stripe's API and its webhooks), in
the worker (SIGKILL, restart), and in the client (the same request twice or at once).

Every choice comes from the world's seeded `random.Random`; the sandbox arms a fault
for the next matching requests, so which call it hits depends on the real order of
calls, which is why a replay is deterministic in what it asks, not in microseconds.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

# The worker's Stripe read timeout (worker_app.py) and a slow fault that outlasts it:
# the call's outcome is unknown while Stripe still does the work.
WORKER_STRIPE_TIMEOUT_SECONDS = 1.0
SLOW_MS = 1_800

STRIPE_FAULTS = (
    ("status", {"status": 500}),
    ("status", {"status": 429}),
    ("drop", {}),
    ("drop_after", {}),
    ("slow", {"delay_ms": SLOW_MS}),
)
WEBHOOK_FAULTS = (
    ("duplicate", {"copies": 2}),
    ("duplicate", {"copies": 3}),
    ("delay", {"delay_ms": 700}),
    ("reorder", {"count": 2}),
    ("reorder", {"count": 3}),
)
SEND_MODES = ("once", "twice", "concurrently")


def arm_stripe_faults(world: Any, control: Any, path: str, *, most: int) -> list[str]:
    """Arm up to `most` faults for POSTs to `path`; return what was armed."""
    armed = []
    for _ in range(world.rng.randint(0, most)):
        mode, options = world.rng.choice(STRIPE_FAULTS)
        control.arm_fault(path, mode, method="POST", **options)
        world.slow_armed = world.slow_armed or mode == "slow"
        armed.append(f"{mode}{options.get('status', '')}")
    if path == "/v1/transfers" and world.rng.random() < 0.3:
        control.arm_fault(path, "status", method="GET", status=503, count=2)
        armed.append("GET503x2")
    return armed


def arm_webhook_fault(world: Any, control: Any) -> str:
    mode, options = world.rng.choice(WEBHOOK_FAULTS)
    count = options.pop("count", None) if mode == "reorder" else world.rng.randint(1, 3)
    control.arm_webhook_fault(mode, count=count, **options)
    return f"webhook-{mode}"


def send(mode: str, request: Callable[[], Any]) -> list[Any]:
    """Send a request once, twice in a row, or twice at once; return the answers."""
    if mode == "once":
        return [request()]
    if mode == "twice":
        return [request(), request()]
    answers: list[Any] = [None, None]
    barrier = threading.Barrier(2)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            answers[index] = request()
        except Exception as error:  # surfaced below, in the test's own thread
            answers[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    for answer in answers:
        if isinstance(answer, Exception):
            raise answer
    return answers
