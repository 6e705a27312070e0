"""Profile card purchases in one process: Django's test client on PostgreSQL, the sandbox.

`python -m bench._purchase_profile` (env `DATABASE_URL` names a PostgreSQL server; the
script makes and drops its own database, `accord_bench_profile` unless
`BENCH_PROFILE_DATABASE` says otherwise). It loads `bench._api_setup`'s catalogue, starts
the Stripe sandbox in a process of its own, then buys licenses through
`django.test.Client` in this process:

- `--rounds` rounds of `--purchases` purchases each, timed by this thread's CPU
  (`time.thread_time`, so the sandbox and PostgreSQL do not count); the figure is the
  best round, the least disturbed by the rest of the machine. The baseline, measured
  in the same rounds, is `GET /healthz` (as in `bench.api`): the request cycle, a
  `SELECT 1` and a Redis PING.
- one more round under cProfile: the number of Python function calls, and the
  functions with the most cumulative time;
- 20 purchases counting Python calls (functions and builtins) in all and inside each
  step of a purchase (`_STEPS`): unlike time, the same on a busy machine as on a
  quiet one, so a change's effect shows without a quiet machine.

Not part of `make bench` (its name starts with `_`): it answers "where does a
purchase's CPU go", for docs/benchmarks.md. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from pathlib import Path

from bench._database import database_recreate
from bench.api import _free_port, _run, _scratch_database_url, _wait_for

ROOT = Path(__file__).resolve().parent.parent
_PROJECT_CODE = r"/(config|ledger|licensing|payouts)/"
STEP_PURCHASES = 20


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench._purchase_profile")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--purchases", type=int, default=150, help="purchases per round")
    parser.add_argument("--top", type=int, default=40, help="profile rows printed")
    return parser.parse_args(argv)


def _database_url() -> str:
    return _scratch_database_url(
        "bench._purchase_profile", "BENCH_PROFILE_DATABASE", "accord_bench_profile"
    )


class _Buyer:
    """Purchases (each with its own Idempotency-Key) and the baseline, by Django's client."""

    def __init__(self, setup: dict) -> None:
        from django.test import Client

        self.client = Client(HTTP_AUTHORIZATION=f"Bearer {setup['api_key']}")
        self.offers = setup["offers"]
        self.bought = 0

    def purchase(self) -> None:
        number = self.bought
        self.bought += 1
        response = self.client.post(
            "/api/v1/licenses",
            {"offer": self.offers[number % len(self.offers)], "allow_duplicate": True},
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY=f"profile-{os.getpid()}-{number}",
        )
        assert response.status_code == 201, response.content

    def baseline(self) -> None:
        response = self.client.get("/healthz")
        assert response.status_code == 200, response.content


def _cpu_ms_per_call(call, count: int) -> float:
    started = time.thread_time()
    for _ in range(count):
        call()
    return (time.thread_time() - started) * 1000 / count


def _profiled(buyer: _Buyer, count: int, top: int) -> tuple[int, str]:
    # CPU time, not wall time: waits on PostgreSQL and the sandbox are not this process's.
    profile = cProfile.Profile(time.thread_time)
    profile.enable()
    for _ in range(count):
        buyer.purchase()
    profile.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profile, stream=stream)
    # The project's own functions, where a change can be made, then the whole table.
    stats.sort_stats("cumulative").print_stats(_PROJECT_CODE, top)
    stats.sort_stats("tottime").print_stats(top)
    return stats.total_calls, stream.getvalue()


# The steps of a purchase whose calls are counted on their own (inclusive of what they
# call): function names in the project's modules.
_STEPS = (
    "config/api/idempotency.py:_claim",
    "config/api/idempotency.py:_store",
    "config/api/authentication.py:authenticate",
    "config/api/throttling.py:allow_request",
    "licensing/api/views_licensee.py:post",
    "licensing/selectors/purchases.py:purchase_quote",
    "licensing/selectors/purchases.py:_offer_for_sale",
    "licensing/services/purchases.py:_purchase_claim",
    "licensing/services/card_payments.py:card_charge",
    "payouts/stripe/card_payments.py:card_charge",
    "licensing/services/purchases.py:_purchase_mark_succeeded",
    "licensing/services/license_grants.py:license_grant",
    "licensing/services/license_grants.py:_sale_post",
    "ledger/services.py:accounts_open",
    "ledger/services.py:transaction_post",
    "licensing/certificates/signing.py:certificate_sign",
    "licensing/certificates/keys.py:signing_key_current",
)


def _calls_by_step(buyer: _Buyer, count: int) -> tuple[float, dict[str, float]]:
    """Python calls per purchase, in all and inside each of `_STEPS` (deterministic)."""
    root = f"{ROOT}/"
    steps = set(_STEPS)
    counted: dict[str, int] = dict.fromkeys(_STEPS, 0)
    open_steps: list[str | None] = []
    total = 0

    def hook(frame, event, _argument) -> None:
        nonlocal total
        if event in ("call", "c_call"):
            total += 1
            for step in set(open_steps):
                if step is not None:
                    counted[step] += 1
        if event == "call":
            code = frame.f_code
            name = f"{code.co_filename.removeprefix(root)}:{code.co_name}"
            open_steps.append(name if name in steps else None)
        elif event == "return" and open_steps:
            open_steps.pop()

    sys.setprofile(hook)
    try:
        for _ in range(count):
            buyer.purchase()
    finally:
        sys.setprofile(None)
    return total / count, {step: calls / count for step, calls in counted.items() if calls}


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv)
    database_url = _database_url()
    database_recreate(database_url)
    sandbox_port = _free_port()
    os.environ.update(
        DATABASE_URL=database_url,
        STRIPE_API_BASE=f"http://127.0.0.1:{sandbox_port}",
        DEBUG="0",
        LOG_LEVEL="WARNING",
        RATE_LIMIT_DEFAULT="1000000/min",
        CACHE_KEY_PREFIX=f"accord-profile-{os.getpid()}",
        DJANGO_SETTINGS_MODULE="config.settings",
    )
    os.environ.pop("STRIPE_SECRET_KEY", None)  # the sandbox, never a real Stripe
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", str(sandbox_port)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait_for(f"http://127.0.0.1:{sandbox_port}/_sandbox/health", sandbox)
        _run(dict(os.environ), "manage.py", "migrate", "--noinput", "-v", "0")
        setup = json.loads(_run(dict(os.environ), "-m", "bench._api_setup"))
        figures = _measure(setup, options)
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
    print(json.dumps(figures, sort_keys=True))
    return 0


def _measure(setup: dict, options: argparse.Namespace) -> dict[str, object]:
    import django

    django.setup()
    buyer = _Buyer(setup)
    for _ in range(len(buyer.offers)):  # the first purchase of each offer freezes it
        buyer.purchase()
    purchase_rounds, baseline_rounds = [], []
    for _ in range(options.rounds):
        baseline_rounds.append(_cpu_ms_per_call(buyer.baseline, options.purchases))
        purchase_rounds.append(_cpu_ms_per_call(buyer.purchase, options.purchases))
    calls, table = _profiled(buyer, options.purchases, options.top)
    print(table)
    calls_per_purchase, by_step = _calls_by_step(buyer, STEP_PURCHASES)
    print(f"Python calls per purchase: {calls_per_purchase:.0f}, of which inside")
    for step, step_calls in sorted(by_step.items(), key=lambda item: -item[1]):
        print(f"{step_calls:8.0f}  {step}")
    return {
        "calls_per_purchase": round(calls_per_purchase),
        "calls_per_purchase_by_step": {step: round(value) for step, value in by_step.items()},
        "purchase_cpu_ms_best": round(min(purchase_rounds), 2),
        "purchase_cpu_ms_rounds": [round(value, 2) for value in purchase_rounds],
        "baseline_healthz_cpu_ms_best": round(min(baseline_rounds), 2),
        "baseline_healthz_cpu_ms_rounds": [round(value, 2) for value in baseline_rounds],
        "profiled_purchases": options.purchases,
        "profiled_function_calls": calls,
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


if __name__ == "__main__":
    sys.exit(main())
