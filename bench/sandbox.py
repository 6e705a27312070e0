"""Benchmark: the Stripe sandbox's own throughput, through the real `stripe` SDK.

`python -m bench.sandbox [--transfers N]` starts `python -m stripe_sandbox` on a free
loopback port and drives it from this process:

1. `balance`: `GET /v1/balance` from one client, the floor of a round trip through
   the SDK (the same-run baseline);
2. `transfers`: `POST /v1/transfers` from one client, each as a payout dispatcher
   sends it (idempotency key per item, `transfer_group` per batch of 100, the item id
   in metadata), to ten onboarded accounts;
3. `transfers_4`: the same from four clients at once;
4. `list_group`: `GET /v1/transfers?transfer_group=...&limit=100` with every transfer
   above stored, what a dispatcher asks before re-trying an item of unknown outcome;
5. `rate_limit`: with the sandbox's limit at 25 writes a second (Stripe's test mode),
   one client sending as fast as it can, then one pacing itself just under the limit.

For each it prints requests a second, latency, and the CPU milliseconds per request
spent by the sandbox process and by this client process (Linux /proc; these do not
depend on what else the machine does). Whether a 10,000-transfer payout bench can be
run against one sandbox is the `sandbox_cpu_ms` of `transfers`. Last line: one JSON
object with every figure.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import stripe

from bench._load import process_cpu_seconds

ROOT = Path(__file__).resolve().parent.parent
API_KEY = "sk_test_bench_sandbox"
ACCOUNTS = 10
BATCH_ITEMS = 100
START_SECONDS_MAX = 30
RATE_LIMIT = 25


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.sandbox", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--transfers", type=int, default=2_000, help="transfers per scenario")
    parser.add_argument(
        "--limited-seconds", type=float, default=4.0, help="length of each rate-limited run"
    )
    return parser.parse_args(argv)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _control(url: str, path: str, payload: dict | None = None) -> dict:
    data = json.dumps(payload).encode() if payload is not None else None
    request = urllib.request.Request(url + path, data=data, method="POST" if data else "GET")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def _start_sandbox() -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", str(port)],
        cwd=ROOT,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_SECONDS_MAX
    while True:
        try:
            _control(url, "/_sandbox/health")
            return process, url
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the sandbox did not start") from None
            time.sleep(0.05)


def _client(url: str) -> stripe.StripeClient:
    return stripe.StripeClient(API_KEY, base_addresses={"api": url}, max_network_retries=0)


def _onboarded_accounts(client: stripe.StripeClient, url: str) -> list[str]:
    accounts = []
    for _ in range(ACCOUNTS):
        account = client.v1.accounts.create({"type": "express", "country": "DE"})
        link = client.v1.account_links.create({"account": account.id, "type": "account_onboarding"})
        form = urllib.request.Request(
            url + urlsplit(link.url).path, data=b"agree=true", method="POST"
        )
        with urllib.request.urlopen(form, timeout=10):
            pass  # the onboarding page answers 200 without a return_url
        accounts.append(account.id)
    client.v1.topups.create({"amount": 99_999_999, "currency": "eur"})
    return accounts


def _measure(
    sandbox_pid: int, clients: int, per_client: int, call: Callable[[int, int], None]
) -> dict[str, float]:
    """Run `call(client, n)` `per_client` times from each of `clients` threads."""
    latencies: list[list[float]] = [[] for _ in range(clients)]

    def loop(index: int) -> None:
        for sequence in range(per_client):
            started = time.perf_counter()
            call(index, sequence)
            latencies[index].append((time.perf_counter() - started) * 1000)

    threads = [threading.Thread(target=loop, args=(index,)) for index in range(clients)]
    sandbox_before, client_before = process_cpu_seconds(sandbox_pid), time.process_time()
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    sandbox_cpu = (process_cpu_seconds(sandbox_pid) or 0.0) - (sandbox_before or 0.0)
    client_cpu = time.process_time() - client_before
    flat = sorted(value for per in latencies for value in per)
    count = len(flat)
    return {
        "requests": count,
        "rps": round(count / wall, 1),
        "p50_ms": round(statistics.median(flat), 2),
        "p95_ms": round(flat[min(count - 1, int(0.95 * count))], 2),
        "sandbox_cpu_ms": round(sandbox_cpu * 1000 / count, 3),
        "client_cpu_ms": round(client_cpu * 1000 / count, 3),
    }


def _transfers(
    clients: list[stripe.StripeClient], accounts: list[str], prefix: str
) -> Callable[[int, int], None]:
    def send(index: int, sequence: int) -> None:
        item = f"{prefix}{index}-{sequence}"
        clients[index].v1.transfers.create(
            {
                "amount": 1,
                "currency": "eur",
                "destination": accounts[sequence % len(accounts)],
                "transfer_group": f"batch-{prefix}{index}-{sequence // BATCH_ITEMS}",
                "metadata": {"payout_item": item},
            },
            {"idempotency_key": f"payout-item-{item}"},
        )

    return send


def _rate_limited(client: stripe.StripeClient, seconds: float, pace_per_s: float | None) -> dict:
    """Send top-ups for `seconds`, as fast as possible or paced; count answers and 429s."""
    admitted = limited = 0
    started = time.perf_counter()
    sequence = 0
    while (elapsed := time.perf_counter() - started) < seconds:
        if pace_per_s is not None and sequence > elapsed * pace_per_s:
            time.sleep(sequence / pace_per_s - elapsed)
            continue
        sequence += 1
        try:
            client.v1.topups.create({"amount": 1, "currency": "eur"})
            admitted += 1
        except stripe.RateLimitError:
            limited += 1
    wall = time.perf_counter() - started
    return {"admitted_per_s": round(admitted / wall, 1), "rate_limited": limited}


def main(argv: list[str] | None = None) -> int:
    arguments = _arguments(argv)
    count = arguments.transfers
    process, url = _start_sandbox()
    try:
        clients = [_client(url) for _ in range(4)]
        accounts = _onboarded_accounts(clients[0], url)
        figures = {
            "balance": _measure(
                process.pid, 1, count, lambda index, n: clients[0].v1.balance.retrieve()
            ),
            "transfers": _measure(process.pid, 1, count, _transfers(clients, accounts, "a")),
            "transfers_4": _measure(process.pid, 4, count // 4, _transfers(clients, accounts, "b")),
        }
        groups = [f"batch-a0-{n}" for n in range(max(1, count // BATCH_ITEMS))]
        figures["list_group"] = _measure(
            process.pid,
            1,
            min(50, count),
            lambda index, n: clients[0].v1.transfers.list(
                {"transfer_group": groups[n % len(groups)], "limit": 100}
            ),
        )
        _control(url, "/_sandbox/rate_limit", {"per_second": RATE_LIMIT})
        unpaced = _rate_limited(clients[0], arguments.limited_seconds, None)
        time.sleep(1.0)  # let the window empty between the two runs
        paced = _rate_limited(clients[0], arguments.limited_seconds, RATE_LIMIT * 0.96)
        stats = _control(url, "/_sandbox/stats")
    finally:
        process.terminate()
        process.wait(timeout=10)
    for name, result in figures.items():
        print(f"{name:12} " + "  ".join(f"{key} {value}" for key, value in result.items()))
    print(f"rate limit {RATE_LIMIT}/s: unpaced {unpaced}, paced at 24/s {paced}")
    print(f"sandbox counted {stats['requests']} requests, {stats['rate_limited']} refused")
    transfers = figures["transfers"]
    summary = {
        "transfers_per_s": transfers["rps"],
        "transfers_per_s_4_clients": figures["transfers_4"]["rps"],
        "sandbox_cpu_ms_per_transfer": transfers["sandbox_cpu_ms"],
        "client_cpu_ms_per_transfer": transfers["client_cpu_ms"],
        "baseline_balance_per_s": figures["balance"]["rps"],
        "baseline_sandbox_cpu_ms": figures["balance"]["sandbox_cpu_ms"],
        "list_by_group_p50_ms": figures["list_group"]["p50_ms"],
        "list_by_group_sandbox_cpu_ms": figures["list_group"]["sandbox_cpu_ms"],
        "transfers_stored": count * 2,
        "rate_limit_per_s": RATE_LIMIT,
        "unpaced_admitted_per_s": unpaced["admitted_per_s"],
        "unpaced_rate_limited": unpaced["rate_limited"],
        "paced_admitted_per_s": paced["admitted_per_s"],
        "paced_rate_limited": paced["rate_limited"],
        "cpu_count": os.cpu_count(),
    }
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
