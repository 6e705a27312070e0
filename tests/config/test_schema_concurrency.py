"""Concurrent first requests for the schema on a fresh worker (issue 13, finding 12).

A gunicorn worker with eight threads, started for this test so that nothing in the
process has built a schema yet, gets eight `GET /api/v1/schema/` at once; every one
must be a 200 with the same document. Before the schema was built under a lock,
drf-spectacular's lazy loading of its extensions made most of them 500s.
"""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

REQUESTS = 8
REPOSITORY = Path(__file__).resolve().parents[2]


def _get(url: str, start: threading.Barrier) -> tuple[int, bytes]:
    start.wait(timeout=30)
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_concurrent_first_schema_requests_on_a_fresh_worker_all_succeed() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    gunicorn = [sys.executable, "-m", "gunicorn", "config.wsgi", "--workers", "1"]
    server = subprocess.Popen(
        [*gunicorn, "--threads", str(REQUESTS), "--bind", f"fd://{listener.fileno()}"],
        cwd=REPOSITORY,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"},
        pass_fds=[listener.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        # The listening socket exists already, so requests queue until the worker is up.
        start = threading.Barrier(REQUESTS)
        url = f"http://127.0.0.1:{port}/api/v1/schema/?format=json"
        with concurrent.futures.ThreadPoolExecutor(REQUESTS) as pool:
            answers = list(pool.map(lambda _: _get(url, start), range(REQUESTS)))
    finally:
        server.terminate()
        _, errors = server.communicate(timeout=30)
        listener.close()

    statuses = [status for status, _ in answers]
    assert statuses == [200] * REQUESTS, errors.decode()[-2_000:]
    assert len({body for _, body in answers}) == 1
