"""Benchmark the ledger on PostgreSQL against plain SQL, and print one JSON line last.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/accord_bench_ledger python -m bench.ledger

The database named in DATABASE_URL is dropped and created again (it must not be one
you keep anything in). What is measured, each in alternating rounds whose median is
reported:

- one by one: 3-leg sales (cash in, creator's share and commission out), each its
  own database transaction, through `transaction_post`;
- in bulk: the same sales through `transactions_post_many`, batches of 5,000;
- the ceiling for both: the very same SQL statements sent with plain psycopg into
  copies of the tables (same columns, constraints and indexes, no triggers);
- 8 processes posting one by one at once, every posting touching one platform
  commission account ("hot"), against 8 processes on disjoint accounts ("spread");
- balance reads of an account with 1,000,000 entries, now and as recorded at random
  past times (p50), and as of business moments in the last tenth of the load and
  anywhere in it (not part of the target: see docs/ledger.md), after loading it
  through the bulk service while the checkpoint job runs as it would on its
  schedule; the naive full SUM is shown for comparison.

Targets on the 2-core development machine: one by one at least 50% of plain SQL,
bulk at least 20,000 transactions/s, a balance read under 5 ms at 1,000,000
entries, the hot account at least 80% of spread. `--quick` runs a small version.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg

from bench._database import database_recreate

TARGETS = {
    "one_by_one_ratio_min": 0.5,
    "bulk_tps_min": 20_000,
    "balance_read_ms_max": 5.0,
    "hot_spread_ratio_min": 0.8,
}
BULK_BATCH = 5_000
CONCURRENT_CONNECTIONS = 8


def _say(message: str) -> None:
    print(message, flush=True)


def _django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "ledger", verbosity=0)


_RAW_SCHEMA_SQL = """
CREATE SCHEMA bench_raw;
CREATE TABLE bench_raw.ledger_transaction (LIKE public.ledger_transaction INCLUDING ALL);
CREATE SEQUENCE bench_raw.ledger_transaction_id_seq OWNED BY bench_raw.ledger_transaction.id;
ALTER TABLE bench_raw.ledger_transaction
    ALTER COLUMN id SET DEFAULT nextval('bench_raw.ledger_transaction_id_seq'),
    ALTER COLUMN created_at SET DEFAULT clock_timestamp(),
    ALTER COLUMN xid SET DEFAULT pg_current_xact_id(),
    ADD FOREIGN KEY (reverses_id) REFERENCES bench_raw.ledger_transaction (id)
        DEFERRABLE INITIALLY DEFERRED;
CREATE TABLE bench_raw.ledger_entry (LIKE public.ledger_entry INCLUDING ALL);
"""


class Raw:
    """Plain psycopg into trigger-free copies of the tables: the ceiling.

    It sends the ledger's own statements (search_path points them at the copies), so
    the difference is exactly the service layer and the triggers.
    """

    def __init__(self, url: str) -> None:
        self.connection = psycopg.connect(url)
        self.connection.execute("SET search_path = bench_raw, public")
        self.connection.commit()

    def post_one(self, params: list[Any]) -> None:
        from ledger.inserts import insert_one_sql

        with self.connection.cursor() as cursor:
            cursor.execute(insert_one_sql(3), params, prepare=True)
            cursor.fetchall()
        self.connection.commit()

    def post_bulk(self, rows: list[tuple[str, str, list[tuple[int, int]]]]) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                "SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END"
                " FROM ledger_transaction_id_seq"
            )
            (id_before,) = cursor.fetchone()
            effective_at = datetime.now(UTC).isoformat()  # as the service: one clock a batch
            with cursor.copy(
                "COPY ledger_transaction (idempotency_key, content_digest, kind, reference, memo,"
                " reverses_id, effective_at) FROM STDIN"
            ) as copy:
                copy.write(
                    "".join(
                        f"{key}\t{digest}\tsale\tbench\t\t\\N\t{effective_at}\n"
                        for key, digest, _ in rows
                    )
                )
            (id_last,) = cursor.execute("SELECT currval('ledger_transaction_id_seq')").fetchone()
            cursor.execute(
                "SELECT id, idempotency_key, created_at::text || E'\\t' || effective_at::text"
                " FROM ledger_transaction"
                " WHERE id BETWEEN %s AND %s AND xid = pg_current_xact_id()",
                [id_before + 1, id_last],
                binary=True,
            )
            stamped = {key: (pk, at) for pk, key, at in cursor.fetchall()}
            with cursor.copy(
                "COPY ledger_entry (transaction_id, account_id, amount_micros, currency,"
                " created_at, effective_at) FROM STDIN"
            ) as copy:
                copy.write(
                    "".join(
                        f"{pk}\t{account}\t{amount}\teur\t{at}\n"
                        for key, _, legs in rows
                        for pk, at in (stamped[key],)
                        for account, amount in legs
                    )
                )
        self.connection.commit()


def _sale_legs(cash: Any, payable: Any, commission: Any, amount: int) -> list[Any]:
    from ledger.services import Leg

    commission_micros = amount // 5
    return [
        Leg(cash, amount),
        Leg(payable, commission_micros - amount),
        Leg(commission, -commission_micros),
    ]


class Books:
    """The accounts the benchmark posts to."""

    def __init__(self, creators: int = 200) -> None:
        from ledger.services import owner_accounts_open, platform_account

        self.cash = platform_account(name="stripe_balance", kind="asset", currency="eur")
        self.commission = platform_account(name="commission", kind="revenue", currency="eur")
        self.payables = [
            owner_accounts_open(
                owner_type="creator",
                owner_id=f"bench-{index}",
                currency="eur",
                accounts={"payable": "liability"},
            )["payable"]
            for index in range(creators)
        ]

    def sale(self, number: int) -> list[Any]:
        amount = 1_000_000 + (number % 997) * 10_000
        return _sale_legs(
            self.cash, self.payables[number % len(self.payables)], self.commission, amount
        )


def _raw_statement_params(key: str, legs: list[Any]) -> list[Any]:
    from ledger.inserts import insert_one_params
    from ledger.posting import Posting, posting_prepare

    return insert_one_params(posting_prepare(Posting(key, "sale", legs, "bench")))


# One-by-one rounds alternate blocks of this many postings between the ledger and
# plain SQL, so both see the same background load (the machine is shared).
_INTERLEAVE = 50


def _one_by_one_round(books: Books, raw: Raw, count: int, tag: str) -> tuple[float, float]:
    from ledger.services import transaction_post

    service_seconds = raw_seconds = 0.0
    for block in range(0, count, _INTERLEAVE):
        numbers = range(block, min(block + _INTERLEAVE, count))
        started = time.perf_counter()
        for number in numbers:
            transaction_post(
                idempotency_key=f"one-{tag}-{number}",
                kind="sale",
                legs=books.sale(number),
                reference="bench",
            )
        service_seconds += time.perf_counter() - started
        params = [_raw_statement_params(f"raw-one-{tag}-{n}", books.sale(n)) for n in numbers]
        started = time.perf_counter()
        for statement_params in params:
            raw.post_one(statement_params)
        raw_seconds += time.perf_counter() - started
    return count / service_seconds, count / raw_seconds


def _bulk_round(books: Books, raw: Raw, count: int, tag: str) -> tuple[float, float]:
    """Alternate batch by batch between the service and plain SQL; time each side.

    The service is timed from the call with the Posting objects (validation and
    digests included); plain SQL from rows that were prepared beforehand.
    """
    from ledger.posting import posting_prepare
    from ledger.services import Posting, transactions_post_many

    service_seconds = raw_seconds = 0.0
    for start in range(0, count, BULK_BATCH):
        numbers = range(start, min(start + BULK_BATCH, count))
        batch = [Posting(f"bulk-{tag}-{n}", "sale", books.sale(n), "bench") for n in numbers]
        started = time.perf_counter()
        transactions_post_many(postings=batch)
        service_seconds += time.perf_counter() - started
        rows = [
            (
                f"raw-{prepared.idempotency_key}",
                prepared.content_digest,
                [(leg.account_id, leg.amount_micros) for leg in prepared.legs],
            )
            for prepared in map(posting_prepare, batch)
        ]
        started = time.perf_counter()
        raw.post_bulk(rows)
        raw_seconds += time.perf_counter() - started
    return count / service_seconds, count / raw_seconds


def _concurrent_worker(arguments: tuple[int, str, float, Any, Any, Any]) -> None:
    """Post one by one until the deadline; report how many committed."""
    index, scenario, seconds, accounts, start, results = arguments
    from ledger.services import transaction_post

    cash, payable, commission = accounts
    start.wait()
    deadline = time.monotonic() + seconds
    posted = 0
    while time.monotonic() < deadline:
        transaction_post(
            idempotency_key=f"{scenario}-{index}-{posted}-{uuid.uuid4().hex[:6]}",
            kind="sale",
            legs=_sale_legs(cash, payable, commission, 1_000_000 + posted),
            reference="bench",
        )
        posted += 1
    results.put(posted)


def _concurrent_round(
    account_sets: list[tuple[Any, Any, Any]], scenario: str, seconds: float
) -> float:
    from django.db import connections

    connections.close_all()  # each process opens its own connection
    context = multiprocessing.get_context("fork")
    start = context.Barrier(len(account_sets) + 1)
    results = context.Queue()
    workers = [
        context.Process(
            target=_concurrent_worker, args=((index, scenario, seconds, accounts, start, results),)
        )
        for index, accounts in enumerate(account_sets)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    total = sum(results.get(timeout=seconds + 60) for _ in workers)
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join(timeout=30)
    return total / elapsed


def _concurrency(books: Books, rounds: int, seconds: float) -> tuple[float, float]:
    from ledger.services import platform_account

    own_commissions = [
        platform_account(name=f"commission-{index}", kind="revenue", currency="eur")
        for index in range(CONCURRENT_CONNECTIONS)
    ]
    own_cash = [
        platform_account(name=f"stripe_balance-{index}", kind="asset", currency="eur")
        for index in range(CONCURRENT_CONNECTIONS)
    ]
    hot_sets = [
        (own_cash[i], books.payables[i], books.commission) for i in range(CONCURRENT_CONNECTIONS)
    ]
    spread_sets = [
        (own_cash[i], books.payables[i], own_commissions[i]) for i in range(CONCURRENT_CONNECTIONS)
    ]
    hot, spread = [], []
    for round_number in range(rounds):
        hot.append(_concurrent_round(hot_sets, "hot", seconds))
        spread.append(_concurrent_round(spread_sets, "spread", seconds))
        _say(f"  round {round_number + 1}: hot {hot[-1]:,.0f} tx/s, spread {spread[-1]:,.0f} tx/s")
    return statistics.median(hot), statistics.median(spread)


def _bulk_worker(arguments: tuple[int, int, Books, Any, Any]) -> None:
    """Post `batches` bulk batches; report how many transactions."""
    index, batches, books, start, results = arguments
    from ledger.services import Posting, transactions_post_many

    start.wait()
    for batch_number in range(batches):
        transactions_post_many(
            postings=[
                Posting(f"par-{index}-{batch_number}-{n}", "sale", books.sale(n), "bench")
                for n in range(BULK_BATCH)
            ]
        )
    results.put(batches * BULK_BATCH)


def _bulk_parallel(books: Books, processes: int, batches: int) -> float:
    """Bulk posting from several processes at once (an extra figure, not bulk_tps)."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    start = context.Barrier(processes + 1)
    results = context.Queue()
    workers = [
        context.Process(target=_bulk_worker, args=((index, batches, books, start, results),))
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    total = sum(results.get(timeout=600) for _ in workers)
    elapsed = time.perf_counter() - began
    for worker in workers:
        worker.join(timeout=30)
    return total / elapsed


def _load_hot_account(
    books: Books, entries: int, checkpoint_every: int
) -> tuple[Any, datetime, datetime, float]:
    """Give one account `entries` entries through the bulk service; return it and the period."""
    from tqdm import tqdm

    from ledger.checkpoints import balance_checkpoints_write
    from ledger.services import Leg, Posting, platform_account, transactions_post_many

    hot = platform_account(name="bench-hot", kind="asset", currency="eur")
    counterparts = books.payables
    checkpoint_seconds = 0.0
    first_at = last_at = None
    with tqdm(
        total=entries, unit="entry", desc="loading the 1M-entry account", mininterval=2
    ) as bar:
        for start in range(0, entries, BULK_BATCH):
            size = min(BULK_BATCH, entries - start)
            batch = [
                Posting(
                    f"load-{n}",
                    "usage",
                    [
                        Leg(hot, 1_000 + n % 89),
                        Leg(counterparts[n % len(counterparts)], -(1_000 + n % 89)),
                    ],
                    "bench",
                )
                for n in range(start, start + size)
            ]
            posted = transactions_post_many(postings=batch)
            first_at = first_at or posted[0].created_at
            last_at = posted[-1].created_at
            bar.update(size)
            if (start // BULK_BATCH + 1) % checkpoint_every == 0:
                began = time.perf_counter()
                balance_checkpoints_write()  # what the scheduled job would have done by now
                checkpoint_seconds += time.perf_counter() - began
    began = time.perf_counter()
    balance_checkpoints_write()
    checkpoint_seconds += time.perf_counter() - began
    return hot, first_at, last_at, checkpoint_seconds


def _p50_ms(read: Callable[[], int], times: int) -> tuple[float, list[int]]:
    durations, answers = [], []
    for _ in range(times):
        began = time.perf_counter()
        answers.append(read())
        durations.append((time.perf_counter() - began) * 1000)
    return statistics.median(durations), answers


def _balance_reads(hot: Any, first_at: datetime, last_at: datetime, reads: int) -> dict[str, float]:
    from django.db import connection

    from ledger.selectors import account_balance

    with connection.cursor() as cursor:
        # What autovacuum does after a bulk load; it lets the sums be index-only scans.
        cursor.execute("VACUUM (ANALYZE) ledger_entry")
        cursor.execute("VACUUM (ANALYZE) ledger_balancecheckpoint")
        cursor.execute("SELECT count(*) FROM ledger_entry WHERE account_id = %s", [hot.pk])
        (entry_count,) = cursor.fetchone()
    span = (last_at - first_at).total_seconds()
    generator = random.Random(4)
    past = [first_at + (last_at - first_at) * generator.random() for _ in range(reads)]
    now_ms, now_answers = _p50_ms(lambda: account_balance(hot), reads)
    past_iter = iter(past)
    past_ms, _ = _p50_ms(lambda: account_balance(hot, recorded_as_of=next(past_iter)), reads)
    # As of a business moment: exact whatever was backdated, at a cost that grows with
    # the entries effective after it (docs/ledger.md); the last tenth of the load is
    # a statement's recent period end, a random time anywhere in it the worst case.
    recent = [last_at - (last_at - first_at) * generator.random() / 10 for _ in range(reads)]
    recent_iter, business_iter = iter(recent), iter(past)
    recent_ms, _ = _p50_ms(lambda: account_balance(hot, as_of=next(recent_iter)), reads)
    business_ms, _ = _p50_ms(lambda: account_balance(hot, as_of=next(business_iter)), reads)

    def naive() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT SUM(amount_micros) FROM ledger_entry WHERE account_id = %s", [hot.pk]
            )
            return int(cursor.fetchone()[0])

    naive_ms, naive_answers = _p50_ms(naive, 5)
    assert now_answers[0] == naive_answers[0], (now_answers[0], naive_answers[0])
    return {
        "entries_on_account": entry_count,
        "load_span_s": span,
        "balance_read_now_p50_ms": now_ms,
        "balance_read_past_p50_ms": past_ms,
        "balance_read_business_recent_p50_ms": recent_ms,
        "balance_read_business_past_p50_ms": business_ms,
        "naive_sum_read_p50_ms": naive_ms,
    }


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small run, to try the script")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per figure")
    return parser.parse_args()


def _throughput(books: Books, url: str, rounds: int, scale: float) -> dict[str, list[float]]:
    """One by one and bulk, ledger against plain SQL, in alternating rounds."""
    raw = Raw(url)
    measured: dict[str, list[float]] = {"one": [], "raw_one": [], "bulk": [], "raw_bulk": []}
    for number in range(rounds):
        service_tps, raw_tps = _one_by_one_round(books, raw, int(1_500 * scale), str(number))
        measured["one"].append(service_tps)
        measured["raw_one"].append(raw_tps)
        _say(f"one by one, round {number + 1}: ledger {service_tps:,.0f} tx/s, "
             f"plain SQL {raw_tps:,.0f} tx/s")  # fmt: skip
    for number in range(rounds):
        service_tps, raw_tps = _bulk_round(books, raw, int(30_000 * scale), str(number))
        measured["bulk"].append(service_tps)
        measured["raw_bulk"].append(raw_tps)
        _say(f"bulk, round {number + 1}: ledger {service_tps:,.0f} tx/s, "
             f"plain SQL {raw_tps:,.0f} tx/s")  # fmt: skip
    raw.connection.close()  # forked workers must not inherit an open connection
    return measured


def _figures(measured: dict[str, list[float]], concurrent: tuple[float, float],
             reads: dict[str, float]) -> dict[str, Any]:  # fmt: skip
    """The last line's JSON: the medians, their ratios, every round, and the targets."""
    median = {name: round(statistics.median(values)) for name, values in measured.items()}
    read_ms = max(reads["balance_read_now_p50_ms"], reads["balance_read_past_p50_ms"])
    figures: dict[str, Any] = {
        "one_by_one_tps": median["one"],
        "raw_one_by_one_tps": median["raw_one"],
        "bulk_tps": median["bulk"],
        "raw_bulk_tps": median["raw_bulk"],
        "balance_read_ms": round(read_ms, 3),
        "hot_concurrent_tps": round(concurrent[0]),
        "spread_concurrent_tps": round(concurrent[1]),
    }
    figures["one_by_one_ratio"] = round(median["one"] / median["raw_one"], 3)
    figures["bulk_ratio"] = round(median["bulk"] / median["raw_bulk"], 3)
    figures["hot_spread_ratio"] = round(concurrent[0] / concurrent[1], 3)
    figures |= {name: round(value, 3) for name, value in reads.items()}
    figures |= {
        f"rounds_{name}_tps": [round(v) for v in values] for name, values in measured.items()
    }
    figures["targets"] = TARGETS
    figures["targets_met"] = {
        "one_by_one_ratio": figures["one_by_one_ratio"] >= TARGETS["one_by_one_ratio_min"],
        "bulk_tps": figures["bulk_tps"] >= TARGETS["bulk_tps_min"],
        "balance_read_ms": figures["balance_read_ms"] < TARGETS["balance_read_ms_max"],
        "hot_spread_ratio": figures["hot_spread_ratio"] >= TARGETS["hot_spread_ratio_min"],
    }
    return figures


def main() -> None:
    options = _parse()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit("set DATABASE_URL=postgres://.../accord_bench_ledger (a database this may drop)")
    scale = 0.1 if options.quick else 1.0
    began = time.perf_counter()
    _say(f"ledger benchmark: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}")
    database_recreate(url)
    _django_setup()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(_RAW_SCHEMA_SQL)
        cursor.execute("SHOW server_version")
        (server_version,) = cursor.fetchone()
    _say(f"PostgreSQL {server_version}, database {urlsplit(url).path.lstrip('/')} created")
    books = Books()
    measured = _throughput(books, url, options.rounds, scale)

    parallel_bulk_tps = _bulk_parallel(books, processes=2, batches=max(1, int(4 * scale)))
    _say(f"bulk from 2 processes at once: {parallel_bulk_tps:,.0f} tx/s")
    seconds = 3.0 * max(scale, 0.5)
    rounds = max(options.rounds, 5)
    _say(
        f"{CONCURRENT_CONNECTIONS} processes posting one by one, {rounds} rounds of {seconds:.0f}s"
    )
    concurrent = _concurrency(books, rounds, seconds)

    hot, first_at, last_at, checkpoint_seconds = _load_hot_account(
        books, int(1_000_000 * scale), checkpoint_every=20
    )
    _say(f"checkpoint job: {checkpoint_seconds:.1f} s in total during and after the load")
    reads = _balance_reads(hot, first_at, last_at, reads=200)
    _say(
        f"balance of an account with {reads['entries_on_account']:,} entries: now p50 "
        f"{reads['balance_read_now_p50_ms']:.2f} ms, as of a past time p50 "
        f"{reads['balance_read_past_p50_ms']:.2f} ms "
        f"(a plain SUM over its entries: {reads['naive_sum_read_p50_ms']:.0f} ms); as of a "
        f"business moment p50 {reads['balance_read_business_recent_p50_ms']:.2f} ms in the "
        f"last tenth, {reads['balance_read_business_past_p50_ms']:.2f} ms anywhere"
    )
    figures = _figures(measured, concurrent, reads)
    figures |= {
        "bulk_2_processes_tps": round(parallel_bulk_tps),
        "checkpoint_job_s": round(checkpoint_seconds, 2),
        "rounds": options.rounds,
        "cpus": os.cpu_count(),
        "load_average_end": round(os.getloadavg()[0], 2),
        "runtime_s": round(time.perf_counter() - began, 1),
        "quick": options.quick,
    }
    print(json.dumps(figures), flush=True)


if __name__ == "__main__":
    main()
