"""The open-loop load generator: requests on a schedule, latency from the due time."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bench._load import Request, run_open_loop

SERVICE_SECONDS = 0.02  # the test server serves one request at a time, 50 a second


def _server(serialised: bool) -> ThreadingHTTPServer:
    one_at_a_time = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            if serialised:
                with one_at_a_time:
                    time.sleep(SERVICE_SECONDS)  # service time, not a race
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    return ThreadingHTTPServer(("127.0.0.1", 0), Handler)


@pytest.fixture(params=[False, True], ids=["fast", "serialised"])
def server(request: pytest.FixtureRequest) -> Iterator[tuple[str, bool]]:
    httpd = _server(request.param)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", request.param
    httpd.shutdown()
    httpd.server_close()


def test_open_loop_offers_the_rate_and_counts_the_queue_it_causes(server: tuple[str, bool]):
    url, serialised = server

    result = run_open_loop(
        url, lambda client, n: Request("GET", "/"), rate=100, duration_seconds=1.0
    )
    summary = result.summary()

    assert (summary["requests"], summary["errors"]) == (100, 0)
    if serialised:
        # 100 requests offered in one second to a server that does 50 a second: the
        # last one, due at 0.99 s, cannot be answered before 2 s. A closed loop would
        # report ~20 ms; the open loop reports the wait.
        assert summary["achieved"] <= 51
        assert summary["p99_ms"] >= 900
    else:
        assert summary["achieved"] >= 50  # offered 100/s; loose for a busy machine
        assert summary["p50_ms"] < SERVICE_SECONDS * 1000 * 25
