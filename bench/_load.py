"""HTTP load generators for the benchmarks: closed loop and open loop.

Closed loop (`run_load`): N clients, each keeps one persistent connection and sends its
next request as soon as the last one answered, for a fixed duration. It finds the
stack's ceiling, but a slow answer also delays the next request, so it under-reports
what a user arriving on their own schedule would wait.

Open loop (`run_open_loop`): requests offered at a fixed rate on a schedule, whatever
the answers, and each latency measured from the time the request was due: a
licensee's experience at that arrival rate, queueing included. Both are bounded and
stop by themselves.

On a shared machine latency and throughput move with everybody else's load, so a run
can also count the CPU time the processes under test spent per request (Linux /proc):
that figure does not depend on who else is busy, and it says where the time goes.
"""

from __future__ import annotations

import http.client
import math
import os
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

# Names each group of processes to account for ("app", "database", …) with their pids;
# called at the start and at the end of a run, since workers and backends come and go.
CpuGroups = Callable[[], dict[str, list[int]]]
CLIENT_GROUP = "client"


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds a process has used so far, or None if unreadable."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name may hold spaces and parentheses; the fields after it do not.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def child_pids(parent_pid: int) -> list[int]:
    """The pids whose parent is `parent_pid` (gunicorn's workers, for its master)."""
    children = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended while we looked
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent_pid:
            children.append(int(entry.name))
    return children


def _cpu_snapshot(groups: CpuGroups | None) -> dict[str, dict[int, float]]:
    snapshot: dict[str, dict[int, float]] = {CLIENT_GROUP: {os.getpid(): time.process_time()}}
    for name, pids in (groups() if groups else {}).items():
        readings = {pid: process_cpu_seconds(pid) for pid in pids}
        snapshot[name] = {pid: value for pid, value in readings.items() if value is not None}
    return snapshot


def _cpu_spent(
    before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]
) -> dict[str, float]:
    """CPU seconds per group, over the processes alive at both ends of the run."""
    return {
        name: sum(
            after[name][pid] - start for pid, start in before[name].items() if pid in after[name]
        )
        for name in before
        if name in after
    }


@dataclass
class LoadResult:
    latencies_ms: list[float]
    statuses: dict[int, int]
    wall_seconds: float
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.wall_seconds if self.wall_seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> dict[str, float]:
        figures = {
            "p50_ms": round(self.percentile_ms(0.50), 2),
            "p95_ms": round(self.percentile_ms(0.95), 2),
            "p99_ms": round(self.percentile_ms(0.99), 2),
            "rps": round(self.requests_per_second, 1),
            "requests": len(self.latencies_ms),
        }
        requests = len(self.latencies_ms)
        for name, seconds in sorted(self.cpu_seconds.items()):
            figures[f"cpu_{name}_ms"] = round(seconds * 1000 / requests, 2) if requests else 0.0
        return figures


def run_load(
    base_url: str,
    next_request: Callable[[int, int], Request],
    *,
    clients: int,
    duration_seconds: float,
    expected_statuses: frozenset[int] = frozenset({200, 201}),
    requests_per_client_max: int = 100_000,
    cpu_groups: CpuGroups | None = None,
) -> LoadResult:
    """Drive `clients` concurrent clients; `next_request(client, n)` builds each request.

    With `cpu_groups`, the result also has the CPU seconds each group of processes (and
    this client process, as "client") spent during the run.
    """
    address = urlsplit(base_url)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    statuses: dict[int, int] = {}
    statuses_lock = threading.Lock()
    start_barrier = threading.Barrier(clients + 1)
    deadline_holder: list[float] = []

    def client_loop(client_index: int) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
        start_barrier.wait()
        deadline = deadline_holder[0]
        for sequence in range(requests_per_client_max):
            if time.perf_counter() >= deadline:
                break
            request = next_request(client_index, sequence)
            started = time.perf_counter()
            connection.request(
                request.method, request.path, body=request.body, headers=request.headers
            )
            response = connection.getresponse()
            response.read()
            latencies[client_index].append((time.perf_counter() - started) * 1000)
            with statuses_lock:
                statuses[response.status] = statuses.get(response.status, 0) + 1
        connection.close()

    threads = [threading.Thread(target=client_loop, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    cpu_before = _cpu_snapshot(cpu_groups)
    deadline_holder.append(time.perf_counter() + duration_seconds)
    started = time.perf_counter()
    start_barrier.wait()
    for thread in threads:
        thread.join(timeout=duration_seconds + 60)
    wall_seconds = time.perf_counter() - started
    cpu_seconds = _cpu_spent(cpu_before, _cpu_snapshot(cpu_groups))
    unexpected = {
        status: count for status, count in statuses.items() if status not in expected_statuses
    }
    if unexpected:
        raise RuntimeError(f"unexpected statuses during the load: {unexpected}")
    return LoadResult(
        [value for per_client in latencies for value in per_client],
        statuses,
        wall_seconds,
        cpu_seconds,
    )


def median_summary(results: list[LoadResult]) -> dict[str, float]:
    """The median of each figure over repeated rounds (the machine is shared and noisy)."""
    summaries = [result.summary() for result in results]
    return {
        name: round(statistics.median(summary[name] for summary in summaries), 2)
        for name in summaries[0]
    }


@dataclass
class OpenLoopResult:
    """What an open-loop run at one offered rate saw."""

    rate: float
    latencies_ms: list[float]  # from each request's scheduled send time to its answer
    send_lags_ms: list[float]  # how late the load generator itself sent each request
    statuses: dict[int, int]  # 0 counts requests that got no HTTP answer
    wall_seconds: float
    expected_statuses: frozenset[int]
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, float]:
        completed = len(self.latencies_ms)
        ordered = sorted(self.latencies_ms)
        lags = sorted(self.send_lags_ms)

        def percentile(values: list[float], fraction: float) -> float:
            if not values:
                return float("nan")
            return round(values[min(len(values) - 1, int(fraction * len(values)))], 2)

        errors = sum(
            n for status, n in self.statuses.items() if status not in self.expected_statuses
        )
        figures = {
            "rate": self.rate,
            "achieved": round(completed / self.wall_seconds, 1) if self.wall_seconds else 0.0,
            "p50_ms": percentile(ordered, 0.50),
            "p95_ms": percentile(ordered, 0.95),
            "p99_ms": percentile(ordered, 0.99),
            "requests": completed,
            "errors": errors,
            "send_lag_p99_ms": percentile(lags, 0.99),
        }
        for name, seconds in sorted(self.cpu_seconds.items()):
            figures[f"cpu_{name}_ms"] = round(seconds * 1000 / completed, 2) if completed else 0.0
        return figures


def _send(connection: http.client.HTTPConnection, request: Request) -> int:
    """Send one request and return its status, 0 without an HTTP answer.

    A kept-alive connection the server closed while idle fails at once; the request is
    sent again on a new connection, as HTTP clients do (the time lost stays in the
    latency). The benchmarks' POSTs carry their own Idempotency-Key, so a resend that
    did reach the server cannot buy twice.
    """
    for attempt in (1, 2):
        reused = connection.sock is not None
        try:
            connection.request(
                request.method, request.path, body=request.body, headers=request.headers
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException) as error:
            connection.close()  # reconnects on the next request
            stale = reused and isinstance(
                error, http.client.RemoteDisconnected | BrokenPipeError | ConnectionResetError
            )
            if not stale or attempt == 2:
                return 0
    return 0


class _Schedule:
    """The open loop's timetable and what came of it, shared by its sender threads."""

    def __init__(self, total: int, rate: float, senders: int) -> None:
        self.total = total
        self.interval = 1.0 / rate
        self.start = 0.0  # set just before the senders are released
        self.barrier = threading.Barrier(senders + 1)
        self.latencies: list[float | None] = [None] * total
        self.lags: list[float | None] = [None] * total
        self.statuses: dict[int, int] = {}
        self._lock = threading.Lock()
        self._taken = 0

    def take(self) -> tuple[int, float] | None:
        """Return the next request's index and due time, or None when all are taken."""
        with self._lock:
            if self._taken >= self.total:
                return None
            index = self._taken
            self._taken += 1
        return index, self.start + index * self.interval

    def record(self, index: int, due: float, sent: float, answered: float, status: int) -> None:
        self.latencies[index] = (answered - due) * 1000
        self.lags[index] = (sent - due) * 1000
        with self._lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def _sender(
    schedule: _Schedule, base_url: str, next_request: Callable[[int, int], Request], client: int
) -> None:
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(address.hostname, address.port, timeout=30)
    schedule.barrier.wait()
    while (taken := schedule.take()) is not None:
        index, due = taken
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        request = next_request(client, index)
        sent = time.perf_counter()
        status = _send(connection, request)
        schedule.record(index, due, sent, time.perf_counter(), status)
    connection.close()


def run_open_loop(
    base_url: str,
    next_request: Callable[[int, int], Request],
    *,
    rate: float,
    duration_seconds: float,
    connections: int = 64,
    expected_statuses: frozenset[int] = frozenset({200, 201}),
    cpu_groups: CpuGroups | None = None,
) -> OpenLoopResult:
    """Offer `rate` requests a second for `duration_seconds`, whatever the answers.

    Request i is due at start + i/rate. A pool of senders (half a second of requests,
    at most `connections`), each with one persistent connection, takes the next due
    request as soon as it is free, waits for its time and sends it. Latency is measured
    from the time a request was due, not from when it went out, so a server that falls
    behind cannot hide the wait it causes (coordinated omission): with every sender
    busy a request goes out late, and its lateness is in its latency (and, if the
    generator itself lags, in `send_lags_ms`). Bounded: rate x duration requests, then
    it waits for those in flight.
    """
    total = max(1, int(rate * duration_seconds))
    # About half a second of requests per sender: enough in flight for slow answers,
    # and each connection reused well within the server's keep-alive timeout.
    senders = min(connections, total, max(8, math.ceil(rate / 2)))
    schedule = _Schedule(total, rate, senders)
    threads = [
        threading.Thread(target=_sender, args=(schedule, base_url, next_request, index))
        for index in range(senders)
    ]
    for thread in threads:
        thread.start()
    cpu_before = _cpu_snapshot(cpu_groups)
    schedule.start = time.perf_counter() + 0.05
    schedule.barrier.wait()
    for thread in threads:
        thread.join(timeout=duration_seconds + 60)
    wall_seconds = time.perf_counter() - schedule.start
    cpu_seconds = _cpu_spent(cpu_before, _cpu_snapshot(cpu_groups))
    return OpenLoopResult(
        rate=rate,
        latencies_ms=[value for value in schedule.latencies if value is not None],
        send_lags_ms=[value for value in schedule.lags if value is not None],
        statuses=dict(schedule.statuses),
        wall_seconds=wall_seconds,
        expected_statuses=expected_statuses,
        cpu_seconds=cpu_seconds,
    )
