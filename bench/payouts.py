"""Benchmark: dispatching a payout batch against the Stripe sandbox.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench_payouts \\
    REDIS_URL=redis://127.0.0.1:6379/9 python -m bench.payouts [--items 10000]

The database named in DATABASE_URL is dropped and created again (a scratch one). It
starts `python -m stripe_sandbox` on a free port, makes `--items` creators owed money
(sales posted through `licensing.sales`, Express accounts onboarded in the sandbox),
drafts and approves a batch, and dispatches it with `--workers` Celery worker
processes on REDIS_URL (without REDIS_URL: in this process, chunk by chunk):

1. `baseline`: plain `POST /v1/transfers` through the SDK from this process, one
   after another - what the sandbox and one client manage without Accord;
2. `fast`: the batch with the rate limit raised: items/s, Stripe requests per item
   (target at most 1.05 without faults);
3. `limited`: a second batch of `--limited-items` with the sandbox refusing above
   `--rate-limit` requests a second (Stripe's test mode: 25) and Accord's token bucket
   at the same rate: how close the dispatch runs to the limit (target within 10%).

Last line: one JSON object with `items_per_s`, `requests_per_item`,
`rate_limit_per_s`, `limited_rate_per_s` and the rest, with the load average (the
machine is shared: the fast figure is bounded by the CPU the workers get).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

from bench._database import database_recreate
from bench.sandbox import ROOT, _control, _start_sandbox

SANDBOX_KEY = "sk_test_accord_sandbox"
CREATORS_PER_SALE = 50  # a posting has at most 100 legs
OWED_EACH_MICROS = 22_500_000  # 22.50 EUR each, above the 10.00 minimum


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.payouts")
    parser.add_argument("--items", type=int, default=10_000, help="items of the fast batch")
    parser.add_argument("--limited-items", type=int, default=250, help="items of the limited one")
    parser.add_argument("--rate-limit", type=int, default=25, help="the limited run's rate")
    parser.add_argument("--workers", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--concurrency", type=int, default=2, help="pool size of each")
    parser.add_argument("--baseline", type=int, default=500, help="plain SDK transfers")
    return parser.parse_args(argv)


def _say(line: str) -> None:
    print(line, flush=True)


def _creators(count: int) -> list:
    from django.contrib.auth import get_user_model

    from licensing.models import Creator

    tag = uuid.uuid4().hex[:6]
    user_model = get_user_model()
    users = user_model.objects.bulk_create(
        [user_model(username=f"bench-{index}-{tag}") for index in range(count)], batch_size=2000
    )
    Creator.objects.bulk_create(
        [Creator(user=user, display_name=f"Bench {index}") for index, user in enumerate(users)],
        batch_size=2000,
    )
    return list(Creator.objects.filter(user__in=users).order_by("id"))


def _fund(creators: list) -> None:
    from licensing.accounts import platform_stripe_balance
    from licensing.sales import SaleLine, sale_post

    for start in range(0, len(creators), CREATORS_PER_SALE):
        group = creators[start : start + CREATORS_PER_SALE]
        points = 10_000 // len(group)
        owners = {c.public_id: points for c in group}
        owners[group[0].public_id] += 10_000 - points * len(group)
        sale_post(
            license_public_id=f"bench-{uuid.uuid4().hex[:12]}",
            debit=platform_stripe_balance("eur"),
            lines=[SaleLine(OWED_EACH_MICROS * len(group) * 10 // 9, owners)],
            currency="eur",
        )


def _onboard(creators: list, sandbox_url: str) -> None:
    from django.db import connection

    from payouts.models import PayoutAccount
    from payouts.stripe import gateway

    def one(creator: object) -> PayoutAccount:
        account = gateway.account_create(
            idempotency_key=f"bench-account:{creator.public_id}", country="FR"
        )
        link = gateway.account_link_create(
            account_id=account.id,
            refresh_url="http://bench/again",
            return_url="http://bench/done",
            idempotency_key=f"bench-link:{account.id}",
        )
        # The form answers with a redirect to return_url, which is not followed.
        page = http.client.HTTPConnection(urlsplit(sandbox_url).netloc, timeout=10)
        page.request(
            "POST",
            urlsplit(link.url).path,
            body=b"agree=true",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        page.getresponse().read()
        page.close()
        connection.close()
        return PayoutAccount(
            creator=creator,
            stripe_account_id=account.id,
            payouts_enabled=True,
            transfers_active=True,
            details_submitted=True,
        )

    with ThreadPoolExecutor(8) as pool:
        accounts = list(pool.map(one, creators))
    PayoutAccount.objects.bulk_create(accounts, batch_size=2000)


def _workers(options: argparse.Namespace, sandbox_url: str, rate: float) -> tuple[list, str]:
    queue = f"bench-payouts-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "STRIPE_SECRET_KEY": SANDBOX_KEY,
        "STRIPE_API_BASE": sandbox_url,
        "STRIPE_REQUESTS_PER_SECOND": str(rate),
        "STRIPE_RATE_LIMIT_KEY": f"accord:bench-rate:{queue}",
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "LOG_LEVEL": "WARNING",
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "-Q",
        queue,
        "-c",
        str(options.concurrency),
        "-l",
        "WARNING",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
    processes = [
        subprocess.Popen(
            [*command, "-n", f"{queue}-{n}@%h"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for n in range(options.workers)
    ]
    _workers_wait_ready([f"{queue}-{n}@{socket.gethostname()}" for n in range(options.workers)])
    return processes, queue


def _workers_wait_ready(names: list[str], timeout: float = 120.0) -> None:
    """Start the clock once every worker answers a ping, not after a fixed pause.

    On a loaded machine a worker takes far longer than the 3 s that used to be slept to
    import Django and connect; that start-up was counted as dispatch time, and the
    limited run (10 s of work at 25 a second) looked like a fraction of the limit.
    """
    from config.celery import app

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answered = app.control.ping(destination=names, timeout=1.0) or []
        if {name for reply in answered for name in reply} >= set(names):
            return
    raise RuntimeError(f"workers {names} did not answer within {timeout:.0f} s")


def _dispatch(batch: object, use_workers: bool, queue: str | None) -> float:
    from django.conf import settings

    from config.celery import app
    from payouts.models import PayoutBatch, PayoutItem
    from payouts.services.payout_batches import payout_batch_complete_check, payout_batch_dispatch
    from payouts.services.payout_dispatch import payout_items_submit

    started = time.perf_counter()
    if use_workers:
        app.conf.task_always_eager = False
        app.conf.task_default_queue = queue
        payout_batch_dispatch(batch=batch)
        while batch.status not in (
            PayoutBatch.Status.COMPLETED,
            PayoutBatch.Status.COMPLETED_WITH_FAILURES,
        ):
            time.sleep(0.2)
            batch.refresh_from_db()
    else:
        PayoutBatch.objects.filter(pk=batch.pk).update(status=PayoutBatch.Status.DISPATCHING)
        ids = list(
            PayoutItem.objects.filter(batch=batch).order_by("id").values_list("id", flat=True)
        )
        for start in range(0, len(ids), settings.PAYOUT_CHUNK_SIZE):
            payout_items_submit(item_ids=ids[start : start + settings.PAYOUT_CHUNK_SIZE])
        payout_batch_complete_check(batch_id=batch.pk)
    return time.perf_counter() - started


def _batch(user: object) -> object:
    from payouts.services.payout_batches import payout_batch_approve, payout_batch_create

    batch = payout_batch_create(currency="eur", user=user)
    return payout_batch_approve(batch=batch, user=user)


def _baseline(count: int) -> float:
    from payouts.models import PayoutAccount
    from payouts.stripe import gateway

    destination = PayoutAccount.objects.first().stripe_account_id
    started = time.perf_counter()
    for index in range(count):
        gateway.transfer_create(
            idempotency_key=f"bench-baseline-{uuid.uuid4().hex}-{index}",
            destination=destination,
            amount=1,
            currency="eur",
            transfer_group="bench-baseline",
            network_retries=0,
        )
    return count / (time.perf_counter() - started)


def _requests(url: str) -> tuple[int, int]:
    stats = _control(url, "/_sandbox/stats")
    return stats["requests"], stats["rate_limited"]


def _run(options: argparse.Namespace, sandbox_url: str) -> dict:
    from django.conf import settings

    from licensing.services.creators import finance_user_create
    from payouts.models import CreatorHold
    from payouts.stripe import gateway

    settings.PAYOUT_SECOND_APPROVAL_ABOVE = 10**15
    use_workers = bool(settings.REDIS_URL)
    total = options.items + options.limited_items
    began = time.perf_counter()
    creators = _creators(total)
    _fund(creators)
    _onboard(creators, sandbox_url)
    gateway.topup_create(idempotency_key="bench-topup", amount=total * 2_250, currency="eur")
    user = finance_user_create(username=f"bench-finance-{uuid.uuid4().hex[:6]}")
    _say(f"{total:,} creators owed and onboarded in {time.perf_counter() - began:.0f} s")

    baseline = _baseline(options.baseline)
    _say(f"baseline: {baseline:,.0f} plain SDK transfers/s from one client")

    limited = creators[options.items :]
    CreatorHold.objects.bulk_create([CreatorHold(creator=c, reason="bench") for c in limited])
    fast_batch = _batch(user)
    settings.STRIPE_REQUESTS_PER_SECOND = 1_000_000
    processes, queue = _workers(options, sandbox_url, 1_000_000) if use_workers else ([], None)
    before, _ = _requests(sandbox_url)
    seconds = _dispatch(fast_batch, use_workers, queue)
    after, _ = _requests(sandbox_url)
    for process in processes:
        process.terminate()
    items_per_s = options.items / seconds
    requests_per_item = (after - before) / options.items
    _say(
        f"fast: {options.items:,} items in {seconds:.1f} s, {items_per_s:,.0f} items/s, "
        f"{requests_per_item:.3f} Stripe requests per item"
    )

    CreatorHold.objects.all().delete()
    limited_batch = _batch(user)
    _control(sandbox_url, "/_sandbox/rate_limit", {"per_second": options.rate_limit})
    settings.STRIPE_REQUESTS_PER_SECOND = options.rate_limit
    processes, queue = (
        _workers(options, sandbox_url, options.rate_limit) if use_workers else ([], None)
    )
    before, refused_before = _requests(sandbox_url)
    seconds = _dispatch(limited_batch, use_workers, queue)
    after, refused_after = _requests(sandbox_url)
    for process in processes:
        process.terminate()
    limited_rate = (after - before) / seconds
    _say(
        f"limited: {options.limited_items} items at {options.rate_limit}/s: "
        f"{limited_rate:.1f} requests/s ({limited_rate / options.rate_limit:.0%} of the "
        f"limit), {refused_after - refused_before} refused with 429"
    )
    return {
        "items": options.items,
        "items_per_s": round(items_per_s, 1),
        "requests_per_item": round(requests_per_item, 4),
        "baseline_transfers_per_s": round(baseline, 1),
        "rate_limit_per_s": options.rate_limit,
        "limited_items": options.limited_items,
        "limited_rate_per_s": round(limited_rate, 2),
        "limited_rate_ratio": round(limited_rate / options.rate_limit, 3),
        "limited_429s": refused_after - refused_before,
        "workers": options.workers if use_workers else 0,
        "concurrency": options.concurrency,
        "cpus": os.cpu_count(),
        "load_avg": [round(load, 2) for load in os.getloadavg()],
    }


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv)
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("set DATABASE_URL=postgres://.../accord_bench_payouts (a database this may drop)")
    database_recreate(url)
    process, sandbox_url = _start_sandbox()
    os.environ.update(STRIPE_SECRET_KEY=SANDBOX_KEY, STRIPE_API_BASE=sandbox_url)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    try:
        import django
        from django.core.management import call_command

        django.setup()
        call_command("migrate", verbosity=0)
        figures = _run(options, sandbox_url)
    finally:
        process.terminate()
    print(json.dumps(figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
