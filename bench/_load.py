"""A closed-loop HTTP load generator for the benchmarks: N clients, each one request at a time.

Each client keeps one persistent connection and sends its next request as soon as the
last one answered, for a fixed duration (bounded: it always stops by itself). Latency
is measured per request; throughput is completed requests over the wall time.

On a shared machine latency and throughput move with everybody else's load, so a run
can also count the CPU time the processes under test spent per request (Linux /proc):
that figure does not depend on who else is busy, and it says where the time goes.
"""

from __future__ import annotations

import http.client
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
