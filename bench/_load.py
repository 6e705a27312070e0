"""A closed-loop HTTP load generator for the benchmarks: N clients, each one request at a time.

Each client keeps one persistent connection and sends its next request as soon as the
last one answered, for a fixed duration (bounded: it always stops by itself). Latency
is measured per request; throughput is completed requests over the wall time.
"""

from __future__ import annotations

import http.client
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class LoadResult:
    latencies_ms: list[float]
    statuses: dict[int, int]
    wall_seconds: float

    @property
    def requests_per_second(self) -> float:
        return len(self.latencies_ms) / self.wall_seconds if self.wall_seconds else 0.0

    def percentile_ms(self, fraction: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def summary(self) -> dict[str, float]:
        return {
            "p50_ms": round(self.percentile_ms(0.50), 2),
            "p95_ms": round(self.percentile_ms(0.95), 2),
            "p99_ms": round(self.percentile_ms(0.99), 2),
            "rps": round(self.requests_per_second, 1),
            "requests": len(self.latencies_ms),
        }


def run_load(
    base_url: str,
    next_request: Callable[[int, int], Request],
    *,
    clients: int,
    duration_seconds: float,
    expected_statuses: frozenset[int] = frozenset({200, 201}),
    requests_per_client_max: int = 100_000,
) -> LoadResult:
    """Drive `clients` concurrent clients; `next_request(client, n)` builds each request."""
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
    deadline_holder.append(time.perf_counter() + duration_seconds)
    started = time.perf_counter()
    start_barrier.wait()
    for thread in threads:
        thread.join(timeout=duration_seconds + 60)
    wall_seconds = time.perf_counter() - started
    unexpected = {
        status: count for status, count in statuses.items() if status not in expected_statuses
    }
    if unexpected:
        raise RuntimeError(f"unexpected statuses during the load: {unexpected}")
    return LoadResult(
        [value for per_client in latencies for value in per_client], statuses, wall_seconds
    )


def median_summary(results: list[LoadResult]) -> dict[str, float]:
    """The median of each figure over repeated rounds (the machine is shared and noisy)."""
    summaries = [result.summary() for result in results]
    return {
        name: round(statistics.median(summary[name] for summary in summaries), 2)
        for name in summaries[0]
    }
