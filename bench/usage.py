"""Benchmark: declaring usage over HTTP (gunicorn on PostgreSQL) against a COPY ceiling.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python -m bench.usage \
        [--events 300000] [--clients 3] [--workers 3] [--rounds 3]

The benchmark makes its own database (`accord_bench_usage`, or
`BENCH_USAGE_DATABASE`), dropping one left by an earlier run first, and leaves it
for inspection. It creates per-unit licenses through the services
(`bench._usage_setup`), starts gunicorn, and then, in `--rounds` rounds:

1. `--clients` concurrent clients, each on one kept-alive connection, POST batches of
   10,000 new events to `/api/v1/usage` until the round's share of `--events` is
   stored (events/s end to end: accepted events over the round's wall time);
2. the ceiling: the same number of events (at most `--copy-events` a round) loaded
   with PostgreSQL `COPY` straight into scratch tables shaped as the ingest's (a key
   table with its unique index, an events table with its indexes): one key row and
   one event row per event, which is the least the ingest must write.

The machine is shared, so each figure is the median of the rounds, and the two are
measured in the same rounds, under the same neighbours; so is the CPU time gunicorn
and PostgreSQL's backends spend per 10,000 events, which moves much less with the
neighbours' load, and what the machine's cores would sustain at that cost
(`events_per_s_cpu_bound`). The server's RSS (gunicorn's master and workers, summed,
sampled every half second) is read once a tenth of the events are stored, and at
least three batches per worker (`server_rss_mb_start`; 1,000,000 at `--events
10000000`), and at the end (`server_rss_mb_end`); the peak is the largest sample.
Targets (issue 14): >= 20,000 events/s, >= 25% of the COPY rate, RSS within 10%
from start to end.
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import http.client
import io
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

from bench._database import database_recreate
from bench._load import child_pids, process_cpu_seconds
from bench.api import _free_port, _run, _scratch_database_url, _wait_for

ROOT = Path(__file__).resolve().parent.parent
BATCH = 10_000
EVENTS_DEFAULT = 300_000
EVENTS_PER_S_TARGET = 20_000
RATIO_TARGET = 0.25
RSS_GROWTH_MAX = 0.10


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.usage", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--events", type=int, default=EVENTS_DEFAULT, help="events sent in all")
    parser.add_argument("--clients", type=int, default=3, choices=(2, 3, 4))
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--works", type=int, default=20, help="licenses (one work each)")
    parser.add_argument(
        "--copy-events", type=int, default=1_000_000, help="most events COPYed per round"
    )
    options = parser.parse_args(argv)
    if options.events < BATCH * options.rounds:
        parser.error(f"--events must be at least {BATCH:,} per round")
    return options


def _database_url() -> str:
    return _scratch_database_url("bench.usage", "BENCH_USAGE_DATABASE", "accord_bench_usage")


class _Batches:
    """Hands out batch numbers; builds each batch's body (new ids, spread over licenses)."""

    def __init__(self, licenses: list[list[str]]) -> None:
        self.licenses = licenses
        self.next_number = 0
        self.lock = threading.Lock()
        self.now = datetime.now(UTC)

    def take(self, last: int) -> int | None:
        with self.lock:
            if self.next_number >= last:
                return None
            self.next_number += 1
            return self.next_number - 1

    def body(self, number: int) -> bytes:
        # Within the last two hours: past, inside every license's term, one or two months.
        at = (self.now - timedelta(seconds=number % 7_200)).isoformat()
        count = len(self.licenses)
        parts = []
        for i in range(BATCH):
            license_id, work_id = self.licenses[i % count]
            parts.append(
                f'{{"id":"b{number}-{i}","license":"{license_id}","work":"{work_id}",'
                f'"units":{1 + i % 997},"unit":"token","occurred_at":"{at}"}}'
            )
        return ('{"events":[' + ",".join(parts) + "]}").encode()


def _client(base_url: str, key: str, batches: _Batches, last: int, results: list) -> None:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=300)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    while (number := batches.take(last)) is not None:
        body = batches.body(number)
        connection.request("POST", "/api/v1/usage", body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        if response.status != 200:
            results.append(("error", response.status, payload[:500]))
            return
        results.append(("ok", json.loads(payload)["accepted"]))
    connection.close()


def _rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


class _RssMonitor(threading.Thread):
    def __init__(self, master_pid: int) -> None:
        super().__init__(daemon=True)
        self.master_pid = master_pid
        self.peak = 0.0
        self.stop = threading.Event()

    def current(self) -> float:
        return _rss_mb([self.master_pid, *child_pids(self.master_pid)])

    def run(self) -> None:
        while not self.stop.wait(0.5):
            self.peak = max(self.peak, self.current())


def _cpu(pids: list[int]) -> dict[int, float]:
    readings = {pid: process_cpu_seconds(pid) for pid in pids}
    return {pid: value for pid, value in readings.items() if value is not None}


def _cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    # A process born during the round (a worker's first connection opens its backend
    # on its first batch) spent all its CPU in it: counting only the processes alive
    # at both readings left round 1's database figure at a third of the others'.
    return sum(value - before.get(pid, 0.0) for pid, value in after.items())


class _CpuMeter:
    """CPU seconds of gunicorn (master and workers) and of the database's backends.

    On a shared machine wall time moves with the neighbours' load; CPU time per event
    does much less, and says what an idle machine's cores would sustain.
    """

    def __init__(self, gunicorn_pid: int, database_url: str) -> None:
        self.gunicorn_pid = gunicorn_pid
        self.name = urlsplit(database_url).path.lstrip("/")
        self.monitor = psycopg.connect(database_url, autocommit=True)
        self.app = self.database = 0.0

    def _pids(self) -> tuple[list[int], list[int]]:
        backends = self.monitor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [self.name],
        ).fetchall()
        return [self.gunicorn_pid, *child_pids(self.gunicorn_pid)], [pid for (pid,) in backends]

    def start(self) -> None:
        app, database = self._pids()
        self._before = _cpu(app), _cpu(database)

    def stop(self) -> tuple[float, float]:
        app, database = self._pids()
        return (
            _cpu_spent(self._before[0], _cpu(app)),
            _cpu_spent(self._before[1], _cpu(database)),
        )


def _load_round(base_url: str, setup: dict, options, batches: _Batches, last: int) -> tuple:
    results: list = []
    first = batches.next_number
    threads = [
        threading.Thread(target=_client, args=(base_url, setup["api_key"], batches, last, results))
        for _ in range(options.clients)
    ]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    errors = [result for result in results if result[0] == "error"]
    if errors:
        sys.exit(f"the server refused a batch: {errors[0]}")
    accepted = sum(result[1] for result in results)
    if accepted != (last - first) * BATCH:
        sys.exit(f"{accepted} events accepted, {(last - first) * BATCH} sent")
    return accepted, seconds


def _copy_tables(connection: psycopg.Connection) -> None:
    """Scratch tables shaped as the ingest's: same columns, same indexes, not partitioned."""
    connection.execute("DROP TABLE IF EXISTS bench_copy_key, bench_copy_event")
    connection.execute("CREATE TABLE bench_copy_key (LIKE licensing_usageeventkey INCLUDING ALL)")
    connection.execute("CREATE TABLE bench_copy_event (LIKE licensing_usageevent INCLUDING ALL)")


def _copy_round(
    database_url: str, setup_ids: tuple[int, list[tuple[int, int]]], events: int
) -> float:
    """COPY `events` key rows and event rows; return events per second (COPY time only)."""
    organization_id, pairs = setup_ids
    moment = datetime.now(UTC)
    now, period = moment.isoformat(), f"{moment:%Y-%m}"
    keys, rows = io.StringIO(), io.StringIO()
    for n in range(events):
        license_id, work_id = pairs[n % len(pairs)]
        keys.write(f"{n + 1}\t{organization_id}\tc{n}\t{now}\t{period}\t{now}\n")
        rows.write(
            f"{n + 1}\t{organization_id}\tc{n}\t{license_id}\t{work_id}\tai-eval\ttoken\t"
            f"{1 + n % 997}\t{now}\t{period}\t\\N\t\t0\t{now}\n"
        )
    key_data, row_data = keys.getvalue().encode(), rows.getvalue().encode()
    with psycopg.connect(database_url, autocommit=True) as connection:
        _copy_tables(connection)
        backend = connection.info.backend_pid
        cpu_before = process_cpu_seconds(backend)
        began = time.perf_counter()
        with connection.transaction(), connection.cursor() as cursor:
            with cursor.copy(
                "COPY bench_copy_key (id, organization_id, event_id, occurred_at, period,"
                " created_at) FROM STDIN"
            ) as copy:
                copy.write(key_data)
            with cursor.copy(
                "COPY bench_copy_event (id, organization_id, event_id, license_id, work_id, use,"
                " unit, units, occurred_at, period, flag, model, corrections_count, created_at)"
                " FROM STDIN"
            ) as copy:
                copy.write(row_data)
        seconds = time.perf_counter() - began
        cpu = (process_cpu_seconds(backend) or 0.0) - (cpu_before or 0.0)
        connection.execute("DROP TABLE bench_copy_key, bench_copy_event")
    return events / seconds, cpu


def _ids(database_url: str) -> tuple[int, list[tuple[int, int]]]:
    with psycopg.connect(database_url) as connection:
        organization_id = connection.execute(
            "SELECT id FROM licensing_licenseeorganization WHERE slug = 'bench-lab'"
        ).fetchone()[0]
        pairs = connection.execute(
            "SELECT license_id, work_id FROM licensing_license_works ORDER BY license_id"
        ).fetchall()
    return organization_id, pairs


def _stored(database_url: str) -> int:
    with psycopg.connect(database_url) as connection:
        return connection.execute("SELECT count(*) FROM licensing_usageevent").fetchone()[0]


def main(argv: list[str] | None = None) -> int:
    options = _arguments(argv)
    database_url = _database_url()
    database_recreate(database_url)
    web_port = _free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_DEFAULT": "1000000/min",
        "CACHE_KEY_PREFIX": f"accord-bench-usage-{os.getpid()}",
        # Keep each worker's backend for the whole run: a backend replaced mid-round
        # (the default recycles them after 60 s) takes its CPU time with it, and the
        # database's CPU figure would miss it (the 1,000,000-event run showed 0 ms).
        "DB_CONN_MAX_AGE": "3600",
    }
    environment.pop("STRIPE_SECRET_KEY", None)
    print("migrating and loading the benchmark's licenses…", flush=True)
    _run(environment, "manage.py", "migrate", "--noinput", "-v", "0")
    setup = json.loads(_run(environment, "-m", "bench._usage_setup", str(options.works)))
    setup_ids = _ids(database_url)
    gunicorn = subprocess.Popen(
        [
            sys.executable, "-m", "gunicorn", "config.wsgi",
            "--bind", f"127.0.0.1:{web_port}", "--workers", str(options.workers),
            "--threads", str(options.threads), "--worker-class", "gthread",
            "--timeout", "300", "--log-level", "warning",
        ],
        cwd=ROOT, env=environment,
    )  # fmt: skip
    try:
        base_url = f"http://127.0.0.1:{web_port}"
        _wait_for(f"{base_url}/healthz", gunicorn)
        figures = _measure(base_url, setup, setup_ids, options, database_url, gunicorn.pid)
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=60)
    print(json.dumps(figures, sort_keys=True))
    return 0 if figures["within_targets"] else 1


def _measure(base_url, setup, setup_ids, options, database_url, gunicorn_pid) -> dict:
    batches = _Batches(setup["licenses"])
    total_batches = options.events // BATCH
    monitor = _RssMonitor(gunicorn_pid)
    rss_idle = monitor.current()
    monitor.start()
    per_round = total_batches // options.rounds
    # A tenth of the events, and at least three batches per worker: each worker's
    # memory grows over its first batches (the interpreter's arenas reach a batch's size).
    rss_start_after = min(total_batches - 1, max(total_batches // 10, 3 * options.workers))
    rates, copy_rates, rss_start = [], [], None
    app_cpu, database_cpu, copy_cpu, copied = [], [], 0.0, 0
    meter = _CpuMeter(gunicorn_pid, database_url)
    for round_number in range(1, options.rounds + 1):
        last = total_batches if round_number == options.rounds else round_number * per_round
        meter.start()
        if rss_start is None:
            # The first tenth first, alone, so the start reading is taken at that point.
            head_last = min(last, rss_start_after)
            accepted, seconds = _load_round(base_url, setup, options, batches, head_last)
            rss_start = monitor.current()
            if head_last < last:
                more, more_seconds = _load_round(base_url, setup, options, batches, last)
                accepted, seconds = accepted + more, seconds + more_seconds
        else:
            accepted, seconds = _load_round(base_url, setup, options, batches, last)
        app_seconds, database_seconds = meter.stop()
        app_cpu.append(app_seconds * 1000 * BATCH / accepted)
        database_cpu.append(database_seconds * 1000 * BATCH / accepted)
        rates.append(accepted / seconds)
        copy_events = min(accepted, options.copy_events)
        copy_rate, copy_seconds = _copy_round(database_url, setup_ids, copy_events)
        copy_rates.append(copy_rate)
        copy_cpu, copied = copy_cpu + copy_seconds, copied + copy_events
        print(
            f"round {round_number}: {accepted:,} events in {seconds:.1f} s over HTTP"
            f" = {accepted / seconds:,.0f}/s (CPU per 10,000: app {app_cpu[-1]:,.0f} ms,"
            f" database {database_cpu[-1]:,.0f} ms); COPY {copy_rate:,.0f}/s",
            flush=True,
        )
    rss_end = monitor.current()
    monitor.stop.set()
    meter.monitor.close()
    stored = _stored(database_url)
    if stored != total_batches * BATCH:
        sys.exit(f"{stored:,} events stored, {total_batches * BATCH:,} accepted")
    events_per_s, copy_per_s = statistics.median(rates), statistics.median(copy_rates)
    ratio = events_per_s / copy_per_s
    growth = (rss_end - rss_start) / rss_start
    cpu_ms = statistics.median(app_cpu) + statistics.median(database_cpu)
    cores = os.cpu_count() or 1
    figures = {
        "cpu_app_ms_per_10k": round(statistics.median(app_cpu)),
        "cpu_database_ms_per_10k": round(statistics.median(database_cpu)),
        "cpu_copy_ms_per_10k": round(copy_cpu * 1000 * BATCH / copied),
        # What the machine's cores would sustain with nothing else running on them.
        "events_per_s_cpu_bound": round(cores * BATCH * 1000 / cpu_ms),
        "events_per_s": round(events_per_s),
        "events_per_s_rounds": [round(rate) for rate in rates],
        "copy_events_per_s": round(copy_per_s),
        "copy_events_per_s_rounds": [round(rate) for rate in copy_rates],
        "ratio_to_copy": round(ratio, 3),
        "server_rss_mb_idle": round(rss_idle, 1),
        "server_rss_mb_start": round(rss_start, 1),
        "server_rss_mb_end": round(rss_end, 1),
        "server_rss_mb_peak": round(max(monitor.peak, rss_end), 1),
        "events_stored": stored,
        "clients": options.clients,
        "gunicorn_workers": options.workers,
        "gunicorn_threads": options.threads,
        "rounds": options.rounds,
    }
    figures["within_targets"] = bool(
        events_per_s >= EVENTS_PER_S_TARGET and ratio >= RATIO_TARGET and growth <= RSS_GROWTH_MAX
    )
    print(
        f"median {events_per_s:,.0f} events/s (target {EVENTS_PER_S_TARGET:,}),"
        f" {ratio:.0%} of COPY (target {RATIO_TARGET:.0%}),"
        f" RSS {rss_start:.0f} -> {rss_end:.0f} MB ({growth:+.1%}, target <= {RSS_GROWTH_MAX:.0%})"
    )
    return figures


if __name__ == "__main__":
    sys.exit(main())
